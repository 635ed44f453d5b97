"""The server side: channel emulator, server and policy manager."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

# closed sets come from the core's registries: a new policy, profile or channel needs no edit here
from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.policies.robot import POLICY_MODES
from semcom_ros.core.link.snr_profiles import PROFILES
from semcom_ros.nodes.launch_support import require_value, stop_launch_on_failure


def generate_launch_description():
    config = os.path.join(get_package_share_directory("semcom_ros"), "config")
    arg = LaunchConfiguration
    ns = arg("namespace")
    server = LifecycleNode(package="semcom_ros", executable="server_node", name="semcom_server", namespace=ns,
                           parameters=[arg("params_file"), {"bundle": arg("bundle"), "rate": arg("rate"),
                                                            "device": arg("device"),
                                                            # brings itself to active (README: Managed nodes)
                                                            "autostart": arg("autostart"),
                                                            "exit_on_failure": False}],
                           on_exit=stop_launch_on_failure())
    return LaunchDescription([
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", EnvironmentVariable(
            "FASTDDS_DEFAULT_PROFILES_FILE", default_value=os.path.join(config, "fastdds.xml"))),
        DeclareLaunchArgument("params_file", default_value=os.path.join(config, "semcom.yaml"),
                              description="node parameters (YAML); launch arguments below override it"),
        DeclareLaunchArgument("namespace", default_value="", description="namespace for every node and topic"),
        DeclareLaunchArgument("bundle", default_value="default",
                              description="model bundle folder (semcom-bundle), or 'default' (built in)"),
        DeclareLaunchArgument("rate", default_value="4", description="starting JSCC rate (symbols per token, one of "
                              "the bundle's); configurations carry their own and switch it per frame"),
        DeclareLaunchArgument("device", default_value="cpu", description="server torch device: cpu, cuda or cuda:N"),
        DeclareLaunchArgument("autostart", default_value="true", choices=["true", "false"],
                              description="bring the managed camera/server nodes to active (false: leave them "
                                          "unconfigured for your lifecycle manager)"),
        DeclareLaunchArgument("policy_mode", default_value="snr_table", choices=list(POLICY_MODES),
                              description="how the policy manager maps link SNR to a configuration"),
        DeclareLaunchArgument("snr_profile", default_value="sine", choices=list(PROFILES),
                              description="SNR over time of the emulated channel"),
        DeclareLaunchArgument("snr_trace", default_value="",
                              description="CSV of time_s,snr_db rows (snr_profile:=csv)"),
        DeclareLaunchArgument("channel", default_value="awgn", choices=list(CHANNELS),
                              description="channel model (the moving robot's: correlated_rayleigh, rician, "
                                          "gilbert_elliott; their conditions are in params_file)"),
        DeclareLaunchArgument("speed_mps", default_value="1.0",
                              description="robot speed (m/s): the fading's Doppler and the trajectory profile"),
        require_value("snr_trace", "snr_profile", ("csv",), "CSV file of time_s,snr_db rows"),
        Node(package="semcom_ros", executable="channel_node", name="semcom_channel", namespace=ns,
             parameters=[arg("params_file"), {"profile": arg("snr_profile"), "csv_path": arg("snr_trace"),
                                              "channel": arg("channel"), "speed_mps": arg("speed_mps")}],
             on_exit=stop_launch_on_failure()),
        server,
        Node(package="semcom_ros", executable="policy_node", name="semcom_policy", namespace=ns,
             parameters=[arg("params_file"), {"bundle": arg("bundle"), "rate": arg("rate"),
                                              "mode": arg("policy_mode")}],
             on_exit=stop_launch_on_failure()),
    ])
