"""The whole system on one machine: image source, edge camera node, channel, server, policy."""
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
    model = LaunchConfiguration("model")
    return LaunchDescription([
        DeclareLaunchArgument("camera_topic", default_value="image",
                              description="sensor_msgs/Image topic of your camera driver"),
        DeclareLaunchArgument("use_image_source", default_value="true",
                              description="start the built-in image source (false: use your camera driver)"),
        DeclareLaunchArgument("source", default_value="embedded",
                              description="built-in image source: embedded | device | video | folder"),
        DeclareLaunchArgument("device", default_value="0", description="OpenCV camera index (source:=device)"),
        DeclareLaunchArgument("model", default_value="default", description="'default' or a timm ViT name"),
        DeclareLaunchArgument("policy_mode", default_value="snr_table",
                              description="snr_table | max_accuracy_under_cap | min_cost_above_floor | lyapunov"),
        DeclareLaunchArgument("snr_profile", default_value="sine",
                              description="constant | steps | sine | random_walk | csv"),
        DeclareLaunchArgument("channel", default_value="awgn", description="awgn | rayleigh"),
        Node(package="semcom_ros", executable="image_source", name="image_source",
             condition=IfCondition(LaunchConfiguration("use_image_source")),
             parameters=[params, {"source": LaunchConfiguration("source"),
                                  "device": LaunchConfiguration("device")}],
             remappings=[("image", camera_topic)]),
        Node(package="semcom_ros", executable="camera_node", name="semcom_camera",
             parameters=[params, {"model": model}], remappings=[("image", camera_topic)]),
        Node(package="semcom_ros", executable="channel_node", name="semcom_channel",
             parameters=[params, {"profile": LaunchConfiguration("snr_profile"),
                                  "channel": LaunchConfiguration("channel")}]),
        Node(package="semcom_ros", executable="server_node", name="semcom_server",
             parameters=[params, {"model": model}]),
        Node(package="semcom_ros", executable="policy_node", name="semcom_policy",
             parameters=[params, {"model": model, "mode": LaunchConfiguration("policy_mode")}]),
    ])
