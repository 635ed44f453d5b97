"""Two hosts on one machine: network namespaces joined by a veth pair, optionally a bandwidth-limited link.

Used by the two-host tests and benchmarks/shaped_link.py. Needs root and
iproute2 (``ip``, ``tc``); everything it creates goes on ``close``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from semcom_ros.nodes.base import use_packaged_dds_profile


def sh(*cmd: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")


class TwoHosts:
    """Namespaces robot/server with 10.213.<k>.1 and .2 on a veth pair; removed on close."""

    def __init__(self):
        k = os.getpid() % 250
        self.robot, self.server = f"semcom_robot_{os.getpid()}", f"semcom_server_{os.getpid()}"
        self.veth = (f"vr{os.getpid()}"[:15], f"vs{os.getpid()}"[:15])
        sh("ip", "netns", "add", self.robot)
        sh("ip", "netns", "add", self.server)
        sh("ip", "link", "add", self.veth[0], "type", "veth", "peer", "name", self.veth[1])
        for ns, dev, addr in ((self.robot, self.veth[0], f"10.213.{k}.1/24"),
                              (self.server, self.veth[1], f"10.213.{k}.2/24")):
            sh("ip", "link", "set", dev, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)    # DDS discovery is multicast

    def run(self, ns: str, args: list[str], **popen) -> subprocess.Popen:
        # the package's Fast DDS profile, as the README tells a team to export it for its camera driver: our nodes
        # set it for themselves, the driver does not, and without it its 640x480 frames hardly reached the nodes
        use_packaged_dds_profile()
        env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="SUBNET")    # not localhost: the peer is remote
        return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, *args], env=env, **popen)

    def tx_bytes(self) -> int:
        out = subprocess.run(["ip", "netns", "exec", self.robot, "cat",
                              f"/sys/class/net/{self.veth[0]}/statistics/tx_bytes"], capture_output=True, text=True)
        return int(out.stdout)

    def close(self) -> None:
        for ns in (self.robot, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def watcher(self, seconds: float, frames: int = 0,
                topics: str = "classification") -> tuple[subprocess.Popen, Path]:
        """Start ``watch`` on the server host and return once it listens; touch the returned path to stop it."""
        ready, stop = Path(tempfile.mkdtemp()) / "watching", Path(tempfile.mkdtemp()) / "stop"
        proc = self.run(self.server, [__file__, "--watch", str(seconds), str(frames), str(ready), str(stop), topics],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        return proc, stop

    def shape(self, mbit_s: float, burst_kbit: int = 32, latency_ms: int = 400) -> None:
        """Limit what the robot sends to ``mbit_s`` with the kernel's token bucket (as a radio link would)."""
        sh("ip", "netns", "exec", self.robot, "tc", "qdisc", "add", "dev", self.veth[0], "root", "tbf",
           "rate", f"{int(mbit_s * 1000)}kbit", "burst", f"{burst_kbit}kbit", "latency", f"{latency_ms}ms")


def watched(proc: subprocess.Popen, timeout: float = 120, stop: Path | None = None,
            grace: float = 10.0) -> dict[int, dict]:
    """What a watcher saw: frame index -> its classification values and ``latency_ms``.

    With ``stop`` (the stream has ended): the watcher ends by itself once every frame
    came, else it is stopped ``grace`` seconds from now, so a lost frame does not cost its
    whole timeout. Its output is read meanwhile (a long result line fills the pipe).
    """
    try:
        out, err = proc.communicate(timeout=grace if stop else timeout)
    except subprocess.TimeoutExpired:
        if stop is None:
            raise
        stop.touch()
        out, err = proc.communicate(timeout=timeout)
    if not out.strip():
        raise AssertionError(f"the watcher printed nothing: {err.decode()[-2000:]}")
    return {int(k): v for k, v in json.loads(out.decode().strip().splitlines()[-1]).items()}


def watch(seconds: float, frames: int, ready: str, stop: str, topics: str = "classification") -> None:
    """Server host: collect classifications until ``frames`` (0: no limit), ``stop`` exists or ``seconds``.

    ``topics``: comma-separated classification topics (one per robot of a fleet). Creates
    ``ready`` once every subscription has matched its publisher (that node has configured,
    its model loaded), so a stream started after it is seen from its first frame. Prints
    frame index -> values and latency as one JSON line.
    """
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray

    from semcom_ros.nodes.base import RELIABLE

    rclpy.init()
    node = rclpy.create_node("two_hosts_watch")
    got = {}

    def on_result(msg):
        sent = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        got[int(msg.header.frame_id)] = {"latency_ms": 1e3 * (time.time() - sent),
                                         **{kv.key: kv.value for kv in msg.status[0].values}}

    subs = [node.create_subscription(DiagnosticArray, t, on_result, RELIABLE) for t in topics.split(",")]
    end = time.monotonic() + seconds
    while time.monotonic() < end and not all(sub.get_publisher_count() for sub in subs):
        rclpy.spin_once(node, timeout_sec=0.1)
    Path(ready).touch()
    while time.monotonic() < end and not (frames and len(got) >= frames) and not Path(stop).exists():
        rclpy.spin_once(node, timeout_sec=0.1)
    print(json.dumps(got), flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--watch"]:
        watch(float(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:7])
