"""Two hosts on one machine: network namespaces joined by a veth pair, optionally a bandwidth-limited link.

Used by the two-host tests and benchmarks/shaped_link.py. Needs root and
iproute2 (``ip``, ``tc``); everything it creates goes on ``close``.
"""
from __future__ import annotations

import os
import subprocess
import sys


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
        env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="SUBNET")    # not localhost: the peer is remote
        return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, *args], env=env, **popen)

    def tx_bytes(self) -> int:
        out = subprocess.run(["ip", "netns", "exec", self.robot, "cat",
                              f"/sys/class/net/{self.veth[0]}/statistics/tx_bytes"], capture_output=True, text=True)
        return int(out.stdout)

    def close(self) -> None:
        for ns in (self.robot, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def shape(self, mbit_s: float, burst_kbit: int = 32, latency_ms: int = 400) -> None:
        """Limit what the robot sends to ``mbit_s`` with the kernel's token bucket (as a radio link would)."""
        sh("ip", "netns", "exec", self.robot, "tc", "qdisc", "add", "dev", self.veth[0], "root", "tbf",
           "rate", f"{int(mbit_s * 1000)}kbit", "burst", f"{burst_kbit}kbit", "latency", f"{latency_ms}ms")
