"""Start-up time and memory of each node, each started alone as its own process.

    python benchmarks/node_footprint.py

For every node: seconds from process start to its first /diagnostics message
(model loaded, ready), resident memory then (VmRSS) and its peak (VmHWM), and
whether the process imported torch. Prints one JSON line and writes
benchmarks/results/node_footprint.json.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor

from semcom_ros.nodes.base import RELIABLE, use_packaged_dds_profile

NODES = {"image_source": "semcom_ros.nodes.image_source", "semcom_camera": "semcom_ros.nodes.camera",
         "semcom_channel": "semcom_ros.nodes.channel", "semcom_server": "semcom_ros.nodes.server",
         "semcom_policy": "semcom_ros.nodes.policy"}


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def torch_loaded(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def main() -> None:
    use_packaged_dds_profile()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    rclpy.init()
    node = rclpy.create_node("footprint_watch")
    seen: dict[str, float] = {}
    node.create_subscription(DiagnosticArray, "/diagnostics",
                             lambda m: [seen.setdefault(s.name, time.monotonic()) for s in m.status], RELIABLE)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    results = {}
    for name, module in NODES.items():
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", module], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while name not in seen and proc.poll() is None and time.monotonic() - t0 < 120:
            executor.spin_once(timeout_sec=0.02)
        ready = seen.get(name, float("nan")) - t0
        results[name] = {"ready_s": round(ready, 2), "rss_mb": round(status_kb(proc.pid, "VmRSS") / 1024),
                         "peak_rss_mb": round(status_kb(proc.pid, "VmHWM") / 1024), "torch": torch_loaded(proc.pid)}
        proc.send_signal(2)
        proc.wait(timeout=30)
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown()
    out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "nodes": results,
           "note": "ready_s = process start -> first /diagnostics (imports, model load, first timer tick)"}
    path = Path(__file__).parent / "results" / "node_footprint.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
