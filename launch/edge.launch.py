"""The robot side: the edge camera node (and optionally the built-in image source)."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

# closed sets come from the code that checks them
from semcom_ros.core.data.frame_sources import SOURCES
from semcom_ros.nodes.base import RELIABILITIES
from semcom_ros.nodes.launch_support import require_value, stop_launch_on_failure
from semcom_ros.nodes.msg_convert import IMAGE_TRANSPORTS


def generate_launch_description():
    config = os.path.join(get_package_share_directory("semcom_ros"), "config")
    arg = LaunchConfiguration
    camera_topic = arg("camera_topic")
    camera = LifecycleNode(package="semcom_ros", executable="camera_node", name="semcom_camera",
                           namespace=arg("namespace"),
                           parameters=[arg("params_file"), {"bundle": arg("bundle"), "rate": arg("rate"),
                                                            "device": arg("device"),
                                                            "image_transport": arg("image_transport"),
                                                            "image_reliability": arg("image_reliability"),
                                                            # the node brings itself to active (README:
                                                            # Managed nodes); a failed configure leaves it
                                                            # unconfigured instead of stopping the launch
                                                            "autostart": arg("autostart"),
                                                            "exit_on_failure": False}],
                           remappings=[("image", camera_topic)],
                           on_exit=stop_launch_on_failure())
    return LaunchDescription([
        # Large frames between processes need a bigger Fast DDS shared-memory segment;
        # a profile file the user already set wins.
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", EnvironmentVariable(
            "FASTDDS_DEFAULT_PROFILES_FILE", default_value=os.path.join(config, "fastdds.xml"))),
        DeclareLaunchArgument("params_file", default_value=os.path.join(config, "semcom.yaml"),
                              description="node parameters (YAML); launch arguments below override it"),
        DeclareLaunchArgument("namespace", default_value="", description="namespace for every node and topic"),
        DeclareLaunchArgument("camera_topic", default_value="image",
                              description="sensor_msgs/Image topic of your camera driver (base topic when compressed)"),
        DeclareLaunchArgument("image_transport", default_value="raw", choices=list(IMAGE_TRANSPORTS),
                              description="raw Image, or CompressedImage on <camera_topic>/compressed"),
        DeclareLaunchArgument("image_reliability", default_value="best_effort", choices=list(RELIABILITIES),
                              description="QoS reliability of the image subscription (reliable drivers: reliable)"),
        DeclareLaunchArgument("device", default_value="cpu", description="torch device: cpu, cuda or cuda:N"),
        DeclareLaunchArgument("use_image_source", default_value="false", choices=["true", "false"],
                              description="start the built-in image source instead of a camera driver"),
        DeclareLaunchArgument("source", default_value="scenes", choices=list(SOURCES),
                              description="built-in image source"),
        DeclareLaunchArgument("image_path", default_value="",
                              description="video file (source:=video) or image folder (source:=folder)"),
        DeclareLaunchArgument("camera_index", default_value="0", description="OpenCV camera index (source:=device)"),
        DeclareLaunchArgument("bundle", default_value="default",
                              description="model bundle folder (semcom-bundle), or 'default' (built in)"),
        DeclareLaunchArgument("rate", default_value="4", description="starting JSCC rate (symbols per token, one of "
                              "the bundle's); configurations carry their own and switch it per frame"),
        DeclareLaunchArgument("autostart", default_value="true", choices=["true", "false"],
                              description="bring the managed camera/server nodes to active (false: leave them "
                                          "unconfigured for your lifecycle manager)"),
        require_value("image_path", "source", ("video", "folder"), "file or folder"),
        Node(package="semcom_ros", executable="image_source", name="image_source", namespace=arg("namespace"),
             condition=IfCondition(arg("use_image_source")),
             parameters=[arg("params_file"), {"source": arg("source"), "path": arg("image_path"),
                                              "device": arg("camera_index"), "transport": arg("image_transport")}],
             remappings=[("image", camera_topic)],     # compressed: <camera_topic>/compressed
             on_exit=stop_launch_on_failure()),
        camera,
    ])
