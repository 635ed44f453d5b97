"""The robot side: the edge camera node (and optionally the built-in image source)."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    config = os.path.join(get_package_share_directory("semcom_ros"), "config")
    params = os.path.join(config, "semcom.yaml")
    camera_topic = LaunchConfiguration("camera_topic")
    return LaunchDescription([
        # Large frames between processes need a bigger Fast DDS shared-memory segment;
        # a profile file the user already set wins.
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", EnvironmentVariable(
            "FASTDDS_DEFAULT_PROFILES_FILE", default_value=os.path.join(config, "fastdds.xml"))),
        DeclareLaunchArgument("camera_topic", default_value="image",
                              description="sensor_msgs/Image topic of your camera driver (base topic when compressed)"),
        DeclareLaunchArgument("image_transport", default_value="raw", choices=["raw", "compressed"],
                              description="raw Image, or CompressedImage on <camera_topic>/compressed"),
        DeclareLaunchArgument("image_reliability", default_value="best_effort", choices=["best_effort", "reliable"],
                              description="QoS reliability of the image subscription (reliable drivers: reliable)"),
        DeclareLaunchArgument("device", default_value="cpu", description="torch device: cpu, cuda or cuda:N"),
        DeclareLaunchArgument("use_image_source", default_value="false",
                              description="start the built-in image source instead of a camera driver"),
        DeclareLaunchArgument("source", default_value="device",
                              description="built-in image source: embedded | device | video | folder"),
        DeclareLaunchArgument("camera_index", default_value="0", description="OpenCV camera index (source:=device)"),
        DeclareLaunchArgument("model", default_value="default", description="'default' or a timm ViT name"),
        Node(package="semcom_ros", executable="image_source", name="image_source",
             condition=IfCondition(LaunchConfiguration("use_image_source")),
             parameters=[params, {"source": LaunchConfiguration("source"),
                                  "device": LaunchConfiguration("camera_index"),
                                  "transport": LaunchConfiguration("image_transport")}],
             remappings=[("image", camera_topic)]),
        Node(package="semcom_ros", executable="camera_node", name="semcom_camera",
             parameters=[params, {"model": LaunchConfiguration("model"),
                                  "device": LaunchConfiguration("device"),
                                  "image_transport": LaunchConfiguration("image_transport"),
                                  "image_reliability": LaunchConfiguration("image_reliability")}],
             remappings=[("image", camera_topic)]),
    ])
