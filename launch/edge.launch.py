"""The robot side: the edge camera node (and optionally the built-in image source)."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    params = os.path.join(get_package_share_directory("semcom_ros"), "config", "semcom.yaml")
    camera_topic = LaunchConfiguration("camera_topic")
    return LaunchDescription([
        DeclareLaunchArgument("camera_topic", default_value="image",
                              description="sensor_msgs/Image topic of your camera driver"),
        DeclareLaunchArgument("use_image_source", default_value="false",
                              description="start the built-in image source instead of a camera driver"),
        DeclareLaunchArgument("source", default_value="device",
                              description="built-in image source: embedded | device | video | folder"),
        DeclareLaunchArgument("device", default_value="0", description="OpenCV camera index (source:=device)"),
        DeclareLaunchArgument("model", default_value="default", description="'default' or a timm ViT name"),
        Node(package="semcom_ros", executable="image_source", name="image_source",
             condition=IfCondition(LaunchConfiguration("use_image_source")),
             parameters=[params, {"source": LaunchConfiguration("source"),
                                  "device": LaunchConfiguration("device")}],
             remappings=[("image", camera_topic)]),
        Node(package="semcom_ros", executable="camera_node", name="semcom_camera",
             parameters=[params, {"model": LaunchConfiguration("model")}],
             remappings=[("image", camera_topic)]),
    ])
