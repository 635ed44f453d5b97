"""The server side: channel emulator, server and policy manager."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    config = os.path.join(get_package_share_directory("semcom_ros"), "config")
    params = os.path.join(config, "semcom.yaml")
    model = LaunchConfiguration("model")
    return LaunchDescription([
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", EnvironmentVariable(
            "FASTDDS_DEFAULT_PROFILES_FILE", default_value=os.path.join(config, "fastdds.xml"))),
        DeclareLaunchArgument("model", default_value="default", description="'default' or a timm ViT name"),
        DeclareLaunchArgument("device", default_value="cpu", description="server torch device: cpu, cuda or cuda:N"),
        DeclareLaunchArgument("policy_mode", default_value="snr_table",
                              description="snr_table | max_accuracy_under_cap | min_cost_above_floor | lyapunov"),
        DeclareLaunchArgument("snr_profile", default_value="sine",
                              description="constant | steps | sine | random_walk | csv"),
        DeclareLaunchArgument("channel", default_value="awgn", description="awgn | rayleigh"),
        Node(package="semcom_ros", executable="channel_node", name="semcom_channel",
             parameters=[params, {"profile": LaunchConfiguration("snr_profile"),
                                  "channel": LaunchConfiguration("channel")}]),
        Node(package="semcom_ros", executable="server_node", name="semcom_server",
             parameters=[params, {"model": model, "device": LaunchConfiguration("device")}]),
        Node(package="semcom_ros", executable="policy_node", name="semcom_policy",
             parameters=[params, {"model": model, "mode": LaunchConfiguration("policy_mode")}]),
    ])
