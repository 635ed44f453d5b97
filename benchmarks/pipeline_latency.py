"""End-to-end latency of the running nodes: camera -> channel emulator -> server.

    python benchmarks/pipeline_latency.py [--frames 300] [--rate 10] [--overload-rate 500]

The three nodes run in one process on one executor thread (messages still go
through the RMW, serialised, as between processes). A publisher thread plays
the camera driver, stamping each frame when it is sent.

Phase 1 (paced, below capacity): ``--frames`` frames at ``--rate`` Hz. For each
frame: end-to-end latency (stamp -> classification), model compute (the
camera's ViT+JSCC encoder call plus the server's JSCC decoder+ViT call, timed
inside the nodes), and ``overhead = end-to-end - compute`` (conversion,
serialisation, RMW, channel emulation, scheduling).

Phase 2 (overload): frames at ``--overload-rate`` Hz for ``--overload-s`` seconds,
far above what the model serves. With the camera's depth-1 sensor-data
subscription the newest frame wins, so latency must stay bounded: the script
compares latency in the first and last third of the phase.

Prints one JSON line and writes benchmarks/results/pipeline_latency.json.

The nodes as separate processes at a real frame size, against the transport
floor: benchmarks/pipeline_processes.py.
"""
from __future__ import annotations

import argparse
import json
import platform
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from pipeline_common import add_run_args, pct, spin_until
from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.nodes.msg_convert import array_to_image
from semcom_ros.nodes.base import RELIABLE
from semcom_ros.nodes import server as server_node
from semcom_ros.nodes import system


class Timed:
    """Wraps a bound method and records how long each call took."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, []

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = self.fn(*args, **kwargs)
        self.seconds.append(time.perf_counter() - t0)
        return out


class Driver(Node):
    """Publishes frames like a camera driver and collects the server's results."""

    def __init__(self, frames: np.ndarray):
        super().__init__("latency_driver")
        self.frames = frames
        self.pub = self.create_publisher(Image, "image", qos_profile_sensor_data)
        self.results: list[tuple[float, float]] = []   # (send time, latency s), filled on the executor thread
        self.create_subscription(DiagnosticArray, "classification", self.on_result, RELIABLE)

    def send(self, i: int) -> None:
        msg = array_to_image(self.frames[i % len(self.frames)])
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = "camera"
        self.pub.publish(msg)

    def on_result(self, msg: DiagnosticArray) -> None:
        sent = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        latency = self.get_clock().now().nanoseconds * 1e-9 - sent
        self.results.append((sent, latency))


def publish_at(driver: Driver, rate: float, count: int | None, seconds: float | None, stop: threading.Event) -> int:
    period, sent, t0 = 1.0 / rate, 0, time.monotonic()

    def more() -> bool:
        return (count is None or sent < count) and (seconds is None or time.monotonic() - t0 < seconds)

    while not stop.is_set() and more():
        driver.send(sent)
        sent += 1
        time.sleep(max(0.0, t0 + sent * period - time.monotonic()))
    return sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (as in config/semcom.yaml)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    args.out = args.out or Path(__file__).parent / "results" / "pipeline_latency.json"

    rclpy.init()
    frames = load_embedded_eval().images
    built = system.build({"semcom_camera": {"viz_rate_hz": 0.0, "configuration": args.configuration,
                                            "threads": args.threads},
                          "semcom_channel": {"profile": "constant", "snr_db": 20.0},
                          "semcom_server": {"threads": args.threads}}, system.PIPELINE)
    camera = built["semcom_camera"]
    nodes = list(built.values())
    driver = Driver(frames)
    executor = SingleThreadedExecutor()
    for n in nodes + [driver]:
        executor.add_node(n)
    edge_t = camera.link.edge = Timed(camera.link.edge)
    # the server decodes what is waiting with padded_batch.decode_frames (one frame per call when paced)
    dec_t = server_node.decode_frames = Timed(server_node.decode_frames)
    stop = threading.Event()
    try:
        spin_until(executor, lambda: False, 2.0)             # discovery
        for _ in range(5):                                   # warm-up frames, not counted
            driver.send(0)
            spin_until(executor, lambda: False, 0.3)
        for timings in (driver.results, edge_t.seconds, dec_t.seconds):
            timings.clear()

        pub = threading.Thread(target=publish_at, args=(driver, args.rate, args.frames, None, stop))
        pub.start()
        spin_until(executor, lambda: not pub.is_alive() and len(driver.results) >= args.frames,
                   args.frames / args.rate + 30)
        pub.join()
        paced = list(driver.results)
        n_paced = min(len(paced), len(edge_t.seconds), len(dec_t.seconds))
        e2e = np.array([lat for _, lat in paced[:n_paced]])
        compute = np.array(edge_t.seconds[:n_paced]) + np.array(dec_t.seconds[:n_paced])
        overhead = e2e - compute

        driver.results.clear()
        frames_in = camera.counters["frames_in"]
        sent_box = []
        pub = threading.Thread(target=lambda: sent_box.append(
            publish_at(driver, args.overload_rate, None, args.overload_s, stop)))
        pub.start()
        spin_until(executor, lambda: not pub.is_alive(), args.overload_s + 30)
        spin_until(executor, lambda: False, 1.0)             # drain what is in flight
        pub.join()
        over = sorted(driver.results)
        third = max(len(over) // 3, 1)
        first, last = [lat for _, lat in over[:third]], [lat for _, lat in over[-third:]]
        handled = camera.counters["frames_in"] - frames_in
    finally:
        stop.set()
        executor.shutdown()
        for n in nodes + [driver]:
            n.destroy_node()
        rclpy.try_shutdown()

    result = {
        "machine": f"{platform.machine()} {torch.get_num_threads()} torch thread(s), torch {torch.__version__}",
        "model": "default (embedded Fashion-MNIST ViT)", "configuration": args.configuration,
        "paced": {"rate_hz": args.rate, "frames": int(n_paced),
                  "e2e_ms_p50": pct(e2e, 50), "e2e_ms_p95": pct(e2e, 95),
                  "compute_ms_p50": pct(compute, 50), "compute_share": float(np.median(compute / e2e)),
                  "overhead_ms_p50": pct(overhead, 50), "overhead_ms_p95": pct(overhead, 95)},
        "overload": {"rate_hz": args.overload_rate, "seconds": args.overload_s, "frames_sent": sent_box[0],
                     "frames_handled": int(handled), "frames_classified": len(over),
                     "e2e_ms_p50_first_third": pct(first, 50), "e2e_ms_p50_last_third": pct(last, 50),
                     "e2e_ms_max": pct([lat for _, lat in over], 100)},
        "target": "paced overhead p50 <= 5 ms; overload latency bounded (last third ~ first third)",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
