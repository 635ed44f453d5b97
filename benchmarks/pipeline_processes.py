"""The pipeline as a team runs it: camera, channel and server nodes as processes, real-size frames.

    python benchmarks/pipeline_processes.py [--frame-size 640x480] [--frames 300] [--runs 3]

The three nodes start as separate processes (as the launch files start them)
and a camera-driver process (test/camera_driver.py) sends the shelf stream's bgr8 frames at
``--rate`` Hz, then at ``--overload-rate`` Hz. In the same run, the *transport
floor*: the same three hops with the same message types and sizes through relay
processes that do no work.

``delivery_ratio``, ``e2e_ms_p50/p95``, ``overhead_ms_p50``
(end-to-end minus the camera's and server's median compute), ``floor_ms_p50``,
``overhead_vs_floor``, each node's CPU milliseconds per paced frame (user +
system time of its process over the paced phase), ``overload_latency_ratio``
and ``stages_ms_p50``: per node, the paced frames' median transport, queueing
and work times and their age on leaving it (nodes/stage_times.py). Floor and
nodes are measured ``--runs`` times; the run with the median ratio is
reported whole, with every run's ratio. One JSON line; written to
benchmarks/results/pipeline_processes.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image

from node_footprint import cpu_s                 # benchmarks/, on the path when run as a script
from pipeline_common import add_run_args, pct, spin_until
from semcom_ros.nodes import system
from semcom_ros.nodes.base import RELIABLE

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "test" / "camera_driver.py"
NODE_MODULES = {"semcom_camera": [system.NODES["semcom_camera"][0], "-p", "viz_rate_hz:=0.0"],
                "semcom_channel": [system.NODES["semcom_channel"][0], "-p", "snr_db:=20.0"],
                "semcom_server": [system.NODES["semcom_server"][0]]}


def relay_main(stage: str, records: int, m: int) -> None:
    """A pipeline stage that does no work: same topics, types and sizes, for the transport floor."""
    from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
    from sensor_msgs.msg import PointCloud2

    from semcom_ros.nodes.base import NEWEST_FRAME, image_qos
    from semcom_ros.nodes.process import run_node
    from semcom_ros.nodes.symbol_cloud import symbols_to_cloud

    cloud = symbols_to_cloud(np.ones(records * m, np.complex64), [0.0] * 4 + [1.0] * (records - 4), m, config=0)
    values = [KeyValue(key=k, value="0") for k in ("class_id", "label", "score", "topk", "configuration", "tokens",
                                                   "gmacs", "channel_uses", "estimated_snr_db", "latency_s")]

    def make():
        node = Node(f"relay_{stage}")
        if stage == "camera":
            pub = node.create_publisher(PointCloud2, "channel_symbols", NEWEST_FRAME)

            def on(msg):
                cloud.header = msg.header
                pub.publish(cloud)
            node.create_subscription(Image, "image", on, image_qos("best_effort"))
        elif stage == "channel":
            pub = node.create_publisher(PointCloud2, "received_symbols", NEWEST_FRAME)
            node.create_subscription(PointCloud2, "channel_symbols", pub.publish, NEWEST_FRAME)
        else:
            pub = node.create_publisher(DiagnosticArray, "classification", RELIABLE)

            def on(msg):
                out = DiagnosticArray(status=[DiagnosticStatus(name="relay", values=values)])
                out.header = msg.header
                pub.publish(out)
            node.create_subscription(PointCloud2, "received_symbols", on, NEWEST_FRAME)
        return node

    run_node(make, [])


class Watch(Node):
    def __init__(self):
        super().__init__("latency_watch")
        self.got: dict[int, tuple[float, dict]] = {}
        self.status: dict[str, dict] = {}
        self.create_subscription(DiagnosticArray, "classification", self.on_result, RELIABLE)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_diag, RELIABLE)

    def on_result(self, msg):
        sent = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        self.got[int(msg.header.frame_id)] = (self.get_clock().now().nanoseconds * 1e-9 - sent,
                                              {kv.key: kv.value for kv in msg.status[0].values})

    def on_diag(self, msg):
        for st in msg.status:
            self.status[st.name] = {kv.key: kv.value for kv in st.values}


def run_stages(cmds: dict[str, list[str]], watch: Watch, executor, ready: set[str], drives: list[list[str]]):
    """Start the stage processes, wait until ``ready`` report on /diagnostics, run each driver in turn.

    Per drive: the driver's JSON line, the nodes' /diagnostics and each stage's CPU seconds during it.
    """
    procs = {n: subprocess.Popen([sys.executable, *c], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for n, c in cmds.items()}
    out = []
    try:
        spin_until(executor, lambda: ready <= set(watch.status) or any(p.poll() is not None for p in procs.values()),
                   180)
        dead = {n: p.stderr.read().decode()[-1500:] for n, p in procs.items() if p.poll() is not None}
        if dead or not ready <= set(watch.status):
            raise RuntimeError(f"stages did not start: {dead or set(ready) - set(watch.status)}")
        spin_until(executor, lambda: False, 2.0)
        for args in drives:
            before = {n: cpu_s(p.pid) for n, p in procs.items()}
            drv = subprocess.Popen([sys.executable, str(DRIVER), *args], stdout=subprocess.PIPE)
            spin_until(executor, lambda: drv.poll() is not None, 600)
            spin_until(executor, lambda: False, 2.0)
            out.append(json.loads(drv.communicate()[0].decode().strip().splitlines()[-1]))
            out[-1]["status"] = {k: dict(v) for k, v in watch.status.items()}
            out[-1]["cpu_s"] = {n: cpu_s(p.pid) - before[n] for n, p in procs.items()}
    finally:
        exits = system.stop(procs)
    if any(exits.values()):
        raise RuntimeError(f"a stage did not exit cleanly: {exits}")
    return out


def measure(args, watch: Watch, executor, records: int, m: int) -> dict:
    """The transport floor, then the nodes."""
    size = ["--size", args.frame_size, "--source", "shelf"]     # the built-in bundle's task: the shelf stream
    paced = ["--frames", str(args.frames), "--rate", str(args.rate), *size, "--start-index", "0"]
    over = ["--frames", str(int(args.overload_rate * args.overload_s)), "--rate", str(args.overload_rate), *size,
            "--start-index", "100000", "--pool", "20"]
    relay = {f"relay_{s}": [str(Path(__file__).resolve()), "--relay", s, "--records", str(records), "--m", str(m)]
             for s in ("camera", "channel", "server")}
    watch.got.clear()
    run_stages(relay, watch, executor, set(), [paced])
    floor = [watch.got[i][0] for i in range(args.frames) if i in watch.got]

    nodes = {n: ["-m", m, "--ros-args", *rest,
                 *(["-p", f"configuration:={args.configuration}"] if n == "semcom_camera" else [])]
             for n, (m, *rest) in NODE_MODULES.items()}
    watch.got.clear()
    runs = run_stages(nodes, watch, executor, set(NODE_MODULES), [paced, over])
    pace = {i: watch.got[i] for i in range(args.frames) if i in watch.got}
    loaded = [lat for i, (lat, _) in watch.got.items() if i >= 100000]
    e2e = [lat for lat, _ in pace.values()]
    cam_ms = float(runs[0]["status"]["semcom_camera"]["compute_ms_p50"])
    srv_ms = 1e3 * float(np.median([float(v["server_compute_s"]) for _, v in pace.values()]))
    result = {
        "frames_published": runs[0]["published"], "frames_classified": len(pace),
        "delivery_ratio": len(pace) / runs[0]["published"],
        "e2e_ms_p50": pct(e2e, 50), "e2e_ms_p95": pct(e2e, 95),
        "compute_ms_p50": cam_ms + srv_ms, "camera_compute_ms_p50": cam_ms, "server_compute_ms_p50": srv_ms,
        "overhead_ms_p50": pct(e2e, 50) - cam_ms - srv_ms,
        "floor_ms_p50": pct(floor, 50), "floor_frames": len(floor),
        "cpu_ms_per_frame": {n: round(1e3 * s / max(len(pace), 1), 2) for n, s in runs[0]["cpu_s"].items()},
        "overload_frames_published": runs[1]["published"], "overload_frames_classified": len(loaded),
        "overload_e2e_ms_p50": pct(loaded, 50),
        "camera_frames_skipped": int(runs[1]["status"]["semcom_camera"].get("frames_skipped", 0)),
        "overload_latency_ratio": pct(loaded, 50) / pct(e2e, 50),
    }
    result["overhead_vs_floor"] = result["overhead_ms_p50"] / result["floor_ms_p50"]
    # where the paced frames' time went, per node (nodes/stage_times.py): transport, queued, work, age on leaving
    result["stages_ms_p50"] = {n: {k[:-4]: float(v) for k, v in runs[0]["status"][n].items()
                                   if k.endswith("_ms_p50") and k != "compute_ms_p50" and v != ""}
                               for n in NODE_MODULES}
    return result


def median_run(runs: list[dict]) -> dict:
    """The run whose overhead/floor ratio is the median (an odd number of runs: one of them, whole)."""
    return sorted(runs, key=lambda r: r["overhead_vs_floor"])[(len(runs) - 1) // 2]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    ap.add_argument("--frame-size", default="640x480", help="WxH of the driver's bgr8 frames")
    ap.add_argument("--runs", type=int, default=3, help="floor and nodes measured this many times; medians reported")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pipeline_processes.json")
    args = ap.parse_args(argv)
    from semcom_ros.core.bundle.bundle import load_bundle
    from semcom_ros.nodes.base import use_packaged_dds_profile

    use_packaged_dds_profile()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    # the relays send what the camera sends in this configuration: pilot records + tokens
    bundle = load_bundle("default")
    conf = bundle.front(4).get(args.configuration)
    records = 4 + int(round(conf.channel_uses / conf.rate))
    rclpy.init()
    watch = Watch()
    executor = SingleThreadedExecutor()
    executor.add_node(watch)
    try:
        runs = [measure(args, watch, executor, records, conf.rate) for _ in range(args.runs)]
    finally:
        executor.shutdown()
        watch.destroy_node()
        rclpy.try_shutdown()
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, Fast DDS",
        "date": datetime.date.today().isoformat(),
        "model": f"bundle {bundle.name} ({bundle.eval_images} task)", "configuration": args.configuration,
        "frame": f"{args.frame_size} bgr8, sensor-data QoS (depth 1)", "paced_rate_hz": args.rate,
        "overload_rate_hz": args.overload_rate, "runs": len(runs),
        "overhead_vs_floor_runs": [round(r["overhead_vs_floor"], 3) for r in runs],
        **median_run(runs),
        "targets": "delivery_ratio >= 0.99; overhead_ms_p50 <= 1.3 x floor_ms_p50 (1.1 x with less Python per "
                   "frame); overload_latency_ratio <= 2",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    if "--relay" in sys.argv:
        arg = lambda name: sys.argv[sys.argv.index(name) + 1]     # noqa: E731
        relay_main(arg("--relay"), int(arg("--records")), int(arg("--m")))
    else:
        main()
