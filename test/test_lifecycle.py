"""Camera and server as managed (lifecycle) nodes in their own processes, driven as a lifecycle manager would.

configure loads the bundle, activate subscribes, deactivate unsubscribes,
cleanup frees; a bundle that does not load leaves the node unconfigured with
the reason on /diagnostics, and the process keeps running.
"""
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import PointCloud2

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.nodes import system
from semcom_ros.nodes.base import NEWEST_FRAME, RELIABLE

DRIVER = Path(__file__).parent / "camera_driver.py"


class Manager:
    """Lifecycle services of the nodes under test, /diagnostics and the camera's output."""

    def __init__(self):
        rclpy.init()
        self.node = rclpy.create_node("test_lifecycle_manager")
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.status, self.symbols = {}, []
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.on_diag, RELIABLE)
        self.node.create_subscription(PointCloud2, "channel_symbols", self.symbols.append, NEWEST_FRAME)

    def on_diag(self, msg):
        for s in msg.status:
            self.status[s.name] = s

    def spin_until(self, cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not cond():
            self.executor.spin_once(timeout_sec=0.05)
        return cond()

    def call(self, node_name, srv_type, service, request):
        client = self.node.create_client(srv_type, f"/{node_name}/{service}")
        assert client.wait_for_service(timeout_sec=60), f"no {service} service on {node_name}"
        future = client.call_async(request)
        self.executor.spin_until_future_complete(future, timeout_sec=120)
        self.node.destroy_client(client)
        return future.result()

    def state(self, node_name):
        return self.call(node_name, GetState, "get_state", GetState.Request()).current_state.label

    def transition(self, node_name, transition_id):
        return self.call(node_name, ChangeState, "change_state",
                         ChangeState.Request(transition=Transition(id=transition_id))).success

    def value(self, node_name, key):
        s = self.status.get(node_name)
        return {kv.key: kv.value for kv in s.values}.get(key) if s else None

    def drive(self, frames):
        """A camera driver process publishing 640x480 frames at 10 Hz, while this process keeps spinning."""
        driver = subprocess.Popen([sys.executable, str(DRIVER), "--frames", str(frames), "--rate", "10",
                                   "--size", "640x480", "--wait", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.spin_until(lambda: driver.poll() is not None, 120)
        assert driver.returncode == 0, driver.stderr.read().decode()[-2000:]
        self.spin_until(lambda: False, 1.5)

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown()


@pytest.fixture(scope="module")
def manager():
    m = Manager()
    yield m
    m.close()


def test_camera_transitions_load_subscribe_unsubscribe_and_free(manager):
    procs = system.spawn({"semcom_camera": {"autostart": False, "viz_rate_hz": 0.0}}, names=("semcom_camera",),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert manager.spin_until(lambda: manager.value("semcom_camera", "state") == "unconfigured", 60)
        assert manager.node.count_subscribers("image") == 0
        assert manager.transition("semcom_camera", Transition.TRANSITION_CONFIGURE)
        assert manager.state("semcom_camera") == "inactive"
        assert manager.node.count_subscribers("image") == 0          # loaded, not yet listening
        manager.drive(5)
        assert manager.symbols == []
        assert manager.transition("semcom_camera", Transition.TRANSITION_ACTIVATE)
        assert manager.spin_until(lambda: manager.node.count_subscribers("image") == 1, 10)
        manager.drive(20)
        assert len(manager.symbols) >= 18, f"{len(manager.symbols)} of 20 frames coded while active"
        assert manager.transition("semcom_camera", Transition.TRANSITION_DEACTIVATE)
        assert manager.spin_until(lambda: manager.node.count_subscribers("image") == 0, 10)
        before = len(manager.symbols)
        manager.drive(5)
        assert len(manager.symbols) == before
        assert manager.transition("semcom_camera", Transition.TRANSITION_CLEANUP)
        assert manager.state("semcom_camera") == "unconfigured"
        assert manager.spin_until(lambda: manager.value("semcom_camera", "state") == "unconfigured", 5)
        assert manager.value("semcom_camera", "configuration") is None         # the model and front are gone
    finally:
        codes = system.stop(procs)
    assert codes == {"semcom_camera": 0}


def test_a_bad_bundle_leaves_the_server_unconfigured_and_running(manager, tmp_path):
    procs = system.spawn({"semcom_server": {"autostart": False, "bundle": str(tmp_path / "missing")}},
                         names=("semcom_server",), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert manager.spin_until(lambda: manager.value("semcom_server", "state") == "unconfigured", 60)
        assert not manager.transition("semcom_server", Transition.TRANSITION_CONFIGURE)
        assert manager.state("semcom_server") == "unconfigured"
        assert manager.spin_until(lambda: "is not a bundle" in (manager.value("semcom_server", "configure_failure")
                                                                or ""), 5)
        status = manager.status["semcom_server"]
        assert status.level == DiagnosticStatus.ERROR and "unconfigured" in status.message
        assert int(manager.value("semcom_server", "configure_failures")) == 1
        assert procs["semcom_server"].poll() is None                 # still there, for the next attempt
    finally:
        codes = system.stop(procs)
    assert codes == {"semcom_server": 0}


# what the launch files pass the managed nodes with autostart:=true (test_launch_files checks they do)
LAUNCHED = {"autostart": True, "exit_on_failure": False}


def test_started_as_the_launch_files_start_it_the_camera_ends_active_however_long_configure_takes(manager):
    """A slow configure and a lost transition response cannot leave the camera inactive.

    Configure graph-captures the edge (tens of seconds, far beyond a service timeout); a manager's own
    configure request arrives meanwhile and its response is never read.
    """
    procs = system.spawn({"semcom_camera": {**LAUNCHED, "viz_rate_hz": 0.0, "compile_configurations": ["S1"]}},
                         names=("semcom_camera",), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        client = manager.node.create_client(ChangeState, "/semcom_camera/change_state")
        assert client.wait_for_service(timeout_sec=300)
        client.call_async(ChangeState.Request(transition=Transition(id=Transition.TRANSITION_CONFIGURE)))
        manager.node.destroy_client(client)                   # the response is dropped
        assert manager.spin_until(lambda: manager.value("semcom_camera", "state") == "active", 60), \
            manager.value("semcom_camera", "state")
        assert manager.value("semcom_camera", "compiled") == load_bundle("default").front(4).label("S1")
        assert manager.status["semcom_camera"].level != DiagnosticStatus.ERROR
        before = len(manager.symbols)
        manager.drive(20)
        assert len(manager.symbols) - before >= 18
    finally:
        codes = system.stop(procs)
    assert codes == {"semcom_camera": 0}


def test_a_node_meant_to_be_active_that_is_not_says_so(manager, tmp_path):
    procs = system.spawn({"semcom_server": {**LAUNCHED, "bundle": str(tmp_path / "missing"), "active_timeout_s": 2.0}},
                         names=("semcom_server",), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert manager.spin_until(lambda: "meant to be active" in getattr(manager.status.get("semcom_server"),
                                                                          "message", ""), 60)
        status = manager.status["semcom_server"]
        assert status.level == DiagnosticStatus.ERROR
        assert "unconfigured" in status.message and "is not a bundle" in status.message
        assert procs["semcom_server"].poll() is None          # still running, for a lifecycle manager to retry
    finally:
        codes = system.stop(procs)
    log = procs["semcom_server"].stderr.read().decode()
    assert codes == {"semcom_server": 0}
    assert "meant to be active (autostart) but unconfigured" in log, log[-2000:]
