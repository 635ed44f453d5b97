"""The whole system on one machine: the edge side and the server side together."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration


def generate_launch_description():
    here = os.path.join(get_package_share_directory("semcom_ros"), "launch")
    names = ["camera_topic", "image_transport", "image_reliability", "device", "use_image_source", "source",
             "camera_index", "model", "policy_mode", "snr_profile", "channel"]
    forwarded = {name: LaunchConfiguration(name) for name in names}
    return LaunchDescription([
        DeclareLaunchArgument("camera_topic", default_value="image",
                              description="sensor_msgs/Image topic of your camera driver"),
        DeclareLaunchArgument("use_image_source", default_value="true",
                              description="start the built-in image source (false: use your camera driver)"),
        DeclareLaunchArgument("source", default_value="embedded",
                              description="built-in image source: embedded | device | video | folder"),
        DeclareLaunchArgument("camera_index", default_value="0", description="OpenCV camera index (source:=device)"),
        DeclareLaunchArgument("image_transport", default_value="raw", choices=["raw", "compressed"],
                              description="raw Image, or CompressedImage on <camera_topic>/compressed"),
        DeclareLaunchArgument("image_reliability", default_value="best_effort", choices=["best_effort", "reliable"],
                              description="QoS reliability of the image subscription (reliable drivers: reliable)"),
        DeclareLaunchArgument("device", default_value="cpu", description="torch device of camera and server"),
        DeclareLaunchArgument("model", default_value="default", description="'default' or a timm ViT name"),
        DeclareLaunchArgument("policy_mode", default_value="snr_table",
                              description="snr_table | max_accuracy_under_cap | min_cost_above_floor | lyapunov"),
        DeclareLaunchArgument("snr_profile", default_value="sine",
                              description="constant | steps | sine | random_walk | csv"),
        DeclareLaunchArgument("channel", default_value="awgn", description="awgn | rayleigh"),
        IncludeLaunchDescription(PythonLaunchDescriptionSource(os.path.join(here, "edge.launch.py")),
                                 launch_arguments=forwarded.items()),
        IncludeLaunchDescription(PythonLaunchDescriptionSource(os.path.join(here, "server.launch.py")),
                                 launch_arguments=forwarded.items()),
    ])
