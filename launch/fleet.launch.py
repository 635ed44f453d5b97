"""A fleet on one machine: each robot's edge side in its namespace, one server and one fleet policy.

    ros2 launch semcom_ros fleet.launch.py robots:=r1,r2,r3 snr_db:=25,10,-5

Per robot ``<r>``: the built-in image source (``use_image_source``), the camera
and a channel emulator with that robot's SNR (``snr_db``: one value per robot,
cycled), all under ``/<r>``. One server serves every robot (one model, frames
batched across robots) and one fleet policy shares ``budget`` channel uses per
second between them. On real robots run ``edge.launch.py namespace:=<r>`` on
each robot and this file's server side with ``use_image_source:=false``, or see
the README ("A fleet") for splitting a fleet across machines and servers.
"""
import os

import yaml
from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

# closed sets come from the core's registries: a new fleet mode, profile or channel needs no edit here
from semcom_ros.core.policies.fleet import FLEET_MODES
from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.link.snr_profiles import PROFILES
from semcom_ros.nodes.launch_support import LaunchArgumentError, require_value, stop_launch_on_failure
from semcom_ros.nodes.robots import robot_names


def robot_list(text: str) -> list[str]:
    try:
        robots = robot_names([r for r in text.split(",") if r.strip().strip("/")])
    except ValueError as exc:
        raise LaunchArgumentError(str(exc)) from exc
    if robots == [""]:
        raise LaunchArgumentError("robots:=<r1,r2,...> needs at least one robot namespace")
    return robots


def nodes(context, *args, **kwargs):
    arg = LaunchConfiguration
    get = lambda name: arg(name).perform(context)  # noqa: E731
    robots = robot_list(get("robots"))
    try:
        snrs = [float(s) for s in get("snr_db").split(",") if s.strip()]
    except ValueError as exc:
        raise LaunchArgumentError(f"snr_db:=<dB,dB,...> must be numbers: {exc}") from exc
    if not snrs:
        raise LaunchArgumentError("snr_db:=<dB,dB,...> needs at least one value")
    params_file = get("params_file")
    with open(params_file) as f:         # namespaced nodes do not match the file's node names: pass sections
        sections = {k: v.get("ros__parameters", {}) for k, v in (yaml.safe_load(f) or {}).items()}
    use_source = get("use_image_source") == "true"
    bundle, rate = arg("bundle"), arg("rate")
    out = []
    for i, robot in enumerate(robots):
        if use_source:
            out.append(Node(package="semcom_ros", executable="image_source", name="image_source", namespace=robot,
                            parameters=[sections.get("image_source", {}),
                                        {"frame_id": f"{robot}/camera", "source": "scenes"}],
                            on_exit=stop_launch_on_failure()))
        out.append(LifecycleNode(package="semcom_ros", executable="camera_node", name="semcom_camera",
                                 namespace=robot,
                                 parameters=[sections.get("semcom_camera", {}),
                                             {"bundle": bundle, "rate": rate, "device": arg("device"),
                                              "autostart": arg("autostart"), "exit_on_failure": False}],
                                 on_exit=stop_launch_on_failure()))
        out.append(Node(package="semcom_ros", executable="channel_node", name="semcom_channel", namespace=robot,
                        parameters=[sections.get("semcom_channel", {}),
                                    {"profile": get("snr_profile"), "snr_db": snrs[i % len(snrs)], "seed": i,
                                     "csv_path": get("snr_trace"), "channel": get("channel")}],
                        on_exit=stop_launch_on_failure()))
    out.append(LifecycleNode(package="semcom_ros", executable="server_node", name="semcom_server", namespace="",
                             parameters=[params_file, {"robots": robots, "bundle": bundle, "rate": rate,
                                                       "device": arg("server_device"),
                                                       "autostart": arg("autostart"), "exit_on_failure": False}],
                             on_exit=stop_launch_on_failure()))
    out.append(Node(package="semcom_ros", executable="fleet_policy_node", name="semcom_fleet_policy", namespace="",
                    parameters=[params_file, {"robots": robots, "bundle": bundle, "rate": rate,
                                              "mode": arg("fleet_mode"), "budget": arg("budget")}],
                    on_exit=stop_launch_on_failure()))
    return out


def generate_launch_description():
    config = os.path.join(get_package_share_directory("semcom_ros"), "config")
    return LaunchDescription([
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", EnvironmentVariable(
            "FASTDDS_DEFAULT_PROFILES_FILE", default_value=os.path.join(config, "fastdds.xml"))),
        DeclareLaunchArgument("params_file", default_value=os.path.join(config, "semcom.yaml"),
                              description="node parameters (YAML); launch arguments below override it"),
        DeclareLaunchArgument("robots", default_value="r1,r2,r3",
                              description="comma-separated robot namespaces, one edge stack each"),
        DeclareLaunchArgument("snr_db", default_value="25,10,-5",
                              description="each robot's channel SNR (dB), comma-separated, cycled over the robots "
                                          "(constant profile; random_walk starts there)"),
        DeclareLaunchArgument("snr_profile", default_value="constant", choices=list(PROFILES),
                              description="SNR over time of every robot's emulated channel"),
        DeclareLaunchArgument("snr_trace", default_value="",
                              description="CSV of time_s,snr_db rows (snr_profile:=csv), the same for every robot"),
        DeclareLaunchArgument("channel", default_value="awgn", choices=list(CHANNELS),
                              description="channel model"),
        require_value("snr_trace", "snr_profile", ("csv",), "CSV file of time_s,snr_db rows"),
        DeclareLaunchArgument("use_image_source", default_value="true", choices=["true", "false"],
                              description="start the built-in image source in each robot's namespace "
                                          "(false: your drivers publish /<robot>/image)"),
        DeclareLaunchArgument("bundle", default_value="default",
                              description="model bundle folder (semcom-bundle), or 'default' (built in)"),
        DeclareLaunchArgument("rate", default_value="4", description="starting JSCC rate (symbols per token)"),
        DeclareLaunchArgument("device", default_value="cpu", description="robots' torch device"),
        DeclareLaunchArgument("server_device", default_value="cpu", description="server torch device"),
        DeclareLaunchArgument("fleet_mode", default_value="shared_budget", choices=list(FLEET_MODES),
                              description="how the fleet policy shares the budget"),
        DeclareLaunchArgument("budget", default_value="3000.0",
                              description="channel uses per second for the whole fleet"),
        DeclareLaunchArgument("autostart", default_value="true", choices=["true", "false"],
                              description="bring the managed camera/server nodes to active"),
        OpaqueFunction(function=nodes),
    ])
