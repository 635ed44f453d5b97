"""The five nodes wired as one system: in one process (demo, tests, benchmarks) or as processes.

Topic names already connect them (image -> channel_symbols -> received_symbols,
link_snr -> active_configuration), so wiring is only choosing which nodes and
which parameters; this is the one place that does it outside the launch files.
"""
from __future__ import annotations

import signal
import subprocess
import sys

from rclpy.parameter import Parameter

# node name -> (module run by ``python -m``, class name); the launch files start the same executables
NODES = {
    "image_source": ("semcom_ros.nodes.image_source", "ImageSourceNode"),
    "semcom_camera": ("semcom_ros.nodes.camera", "CameraNode"),
    "semcom_channel": ("semcom_ros.nodes.channel", "ChannelNode"),
    "semcom_server": ("semcom_ros.nodes.server", "ServerNode"),
    "semcom_policy": ("semcom_ros.nodes.policy", "PolicyNode"),
}
# a fleet: one server with robots [r1, ...] and this policy in place of semcom_policy
FLEET_NODES = {"semcom_fleet_policy": ("semcom_ros.nodes.fleet_policy", "FleetPolicyNode")}
# the baseline without a semantic link: the whole model on camera images
BASELINE_NODES = {"semcom_classifier": ("semcom_ros.nodes.classifier", "ClassifierNode")}
EVERY_NODE = {**NODES, **FLEET_NODES, **BASELINE_NODES}
PIPELINE = ("semcom_camera", "semcom_channel", "semcom_server")


def node_class(name: str):
    import importlib

    module, cls = EVERY_NODE[name]
    return getattr(importlib.import_module(module), cls)


def build(parameters: dict[str, dict], names=tuple(NODES)) -> dict:
    """Nodes in this process (rclpy initialised), each with its parameter overrides."""
    return {name: node_class(name)(parameter_overrides=[Parameter(k, value=v)
                                                        for k, v in parameters.get(name, {}).items()])
            for name in names}


def ros_arg(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(ros_arg(v) for v in value) + "]"
    return str(value)


def spawn(parameters: dict[str, dict], names=PIPELINE, namespace: str = "", **popen) -> dict[str, subprocess.Popen]:
    """Nodes as OS processes, as ``ros2 launch`` starts them (``-p name:=value`` overrides), in ``namespace``."""
    out = {}
    for name in names:
        args = [a for k, v in parameters.get(name, {}).items() for a in ("-p", f"{k}:={ros_arg(v)}")]
        if namespace:
            args += ["-r", f"__ns:=/{namespace.strip('/')}"]
        node_module = EVERY_NODE[name][0].rsplit(".", 1)[1]
        out[name] = subprocess.Popen([sys.executable, "-m", "semcom_ros.nodes.start", node_module, "--ros-args",
                                      *args], **popen)
    return out


def stop(procs: dict[str, subprocess.Popen], timeout: float = 30.0) -> dict[str, int]:
    """Ctrl-C the node processes one after another, each once the one before has left; return each exit code.

    One at a time, not all at once as ``ros2 launch`` does: Fast DDS 3.2 can livelock
    destroying a participant while a peer that stops at the same moment is being
    undiscovered (the teardown's watchdog then ends the process with status 1, its
    shared-memory segments left behind). ``test/test_shutdown.py`` keeps the
    simultaneous stop. A process that did not leave cleanly has its piped stderr (a
    crash's faulthandler stack) copied to ours, as ``ros2 launch`` shows a died
    process's output.
    """
    codes = {}
    for name, p in procs.items():
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        codes[name] = p.wait(timeout=timeout)
    for name, code in codes.items():
        if code != 0 and procs[name].stderr is not None and not procs[name].stderr.closed:
            print(f"--- {name} exited with {code} ---\n{procs[name].stderr.read().decode(errors='replace')[-8000:]}",
                  file=sys.stderr)
    return codes
