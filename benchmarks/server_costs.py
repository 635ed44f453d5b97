"""Where the fleet server's time per frame goes: rclpy's take and dispatch vs this package's code (not a test).

    python benchmarks/server_costs.py [--robots 8] [--frames 2000] [--bundles default,small]

For a batch of ``--robots`` frames (one per robot, differently merged, as
benchmarks/fleet.py sends them), each part of the server's per-frame work is
timed alone in this process, in microseconds a frame:

- ``rclpy_take_dispatch``: a received_symbols PointCloud2 from a publisher in
  this process to a no-op subscription callback on a SingleThreadedExecutor
  (take, deserialise, dispatch), minus the publisher's own ``publish`` time;
- ``read_cloud``, ``unpack``: the cloud into symbols, and into a ReceivedFrame
  (pilot checks, configuration lookup, least-squares pilot estimate);
- ``decode_frames``: the batched server half (JSCC decoder, blocks, head) / N;
- ``result_message``: top-k and the classification DiagnosticArray;
- ``publish_results``: publishing classification, label and estimated_snr;
- ``rclpy_take_dispatch_<format>``, ``read_cloud_<format>``: the same frames in
  the other ``--formats`` (float32 is the default the rest uses).

``ours`` sums the package's parts, ``ideal`` is ``decode_frames`` alone (what
benchmarks/fleet.py calls the batching ideal), and ``ideal_share`` =
ideal / (rclpy + ours): the fraction of the ideal a server can reach at best.
Writes benchmarks/results/server_costs.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from fleet import robot_frames, small_bundle  # noqa: E402


def per_frame_us(fn, frames: int, repeat: int = 5) -> float:
    """Median over ``repeat`` rounds of the time per call, in microseconds; ``fn`` handles ``frames`` frames."""
    rounds = []
    for _ in range(repeat + 1):
        t = time.perf_counter()
        fn()
        rounds.append((time.perf_counter() - t) * 1e6 / frames)
    return sorted(rounds[1:])[len(rounds[1:]) // 2]


def rclpy_costs(msgs: list, n: int) -> tuple[float, float]:
    """(publish µs, take+dispatch µs) per PointCloud2 between two nodes of this process."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import PointCloud2

    from rclpy.qos import QoSProfile, ReliabilityPolicy

    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)     # a burst of 50 is all kept
    node = rclpy.create_node("cost_sender")
    sink = rclpy.create_node("cost_sink")
    got = []
    sink.create_subscription(PointCloud2, "received_symbols", lambda m, info: got.append(1), qos)
    pub = node.create_publisher(PointCloud2, "received_symbols", qos)
    executor = SingleThreadedExecutor()
    executor.add_node(sink)
    end = time.monotonic() + 10
    while pub.get_subscription_count() == 0 and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    publish_s, total_s, count = 0.0, 0.0, 0
    try:
        for _ in range(n // 50):
            got.clear()
            t0 = time.perf_counter()
            for k in range(50):
                pub.publish(msgs[k % len(msgs)])
            t1 = time.perf_counter()
            while len(got) < 50 and time.perf_counter() - t1 < 5:
                executor.spin_once(timeout_sec=0.1)
            t2 = time.perf_counter()
            publish_s += t1 - t0
            total_s += t2 - t0
            count += len(got)
    finally:
        executor.shutdown()
        node.destroy_node()
        sink.destroy_node()
    return publish_s / max(count, 1) * 1e6, (total_s - publish_s) / max(count, 1) * 1e6


def costs(bundle_path, robots: int, frames: int, formats: list[str]) -> dict:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from std_msgs.msg import Float32, String

    from semcom_ros.core.bundle.bundle import load_bundle
    from semcom_ros.core.link.padded_batch import decode_frames
    from semcom_ros.nodes.base import RELIABLE
    from semcom_ros.nodes.classification import classification, top_classes
    from semcom_ros.nodes.symbol_cloud import cloud_to_symbols, symbols_to_cloud

    per_robot, received, link = robot_frames(bundle_path, robots, pool=1)
    msgs = [m for robot in per_robot for m, _ in robot]
    front = load_bundle(bundle_path).front(4)
    batch = received[:robots]
    rounds = max(1, frames // robots)

    def read_all():
        for _ in range(rounds):
            for m in msgs:
                cloud_to_symbols(m)

    def unpack_all():
        from semcom_ros.core.link.padded_batch import ReceivedFrame
        from semcom_ros.core.model.merging_vit import MergeSchedule

        for _ in range(rounds):
            for m in msgs:
                symbols, sizes, mm, config = cloud_to_symbols(m)
                pilots = int((sizes == 0).sum())
                ReceivedFrame.from_received(symbols.reshape(-1), pilots * mm, sizes[pilots:], mm,
                                            MergeSchedule.of(front.configurations[config]))

    def decode_all():
        for _ in range(max(1, rounds // 4)):
            decode_frames(link, batch)

    logits = decode_frames(link, batch)
    names = link.loaded.class_names

    def results_all():
        for _ in range(rounds):
            tops = top_classes(logits.softmax(-1), 3)
            for m, top in zip(msgs, tops):
                classification(m.header, names, top, {"configuration": "S1", "rate": 4, "tokens": 40,
                                                      "latency_s": "0.0010"})

    node = rclpy.create_node("cost_results")
    pubs = (node.create_publisher(DiagnosticArray, "classification", RELIABLE),
            node.create_publisher(String, "label", RELIABLE), node.create_publisher(Float32, "estimated_snr", 10))
    out_msg, _ = classification(msgs[0].header, names, top_classes(logits.softmax(-1), 3)[0], {"rate": 4})

    def publish_all():
        for _ in range(rounds * robots):
            pubs[0].publish(out_msg)
            pubs[1].publish(String(data="Coat"))
            pubs[2].publish(Float32(data=15.0))

    row = {"read_cloud": per_frame_us(read_all, rounds * robots),
           "unpack": per_frame_us(unpack_all, rounds * robots),
           "decode_frames": per_frame_us(decode_all, max(1, rounds // 4) * robots),
           "result_message": per_frame_us(results_all, rounds * robots),
           "publish_results": per_frame_us(publish_all, rounds * robots)}
    node.destroy_node()
    row["publish_symbols"], row["rclpy_take_dispatch"] = rclpy_costs(msgs, min(frames, 2000))
    for fmt in formats:          # the same frames in another symbol format: fewer PointField objects to build
        again = []
        for m in msgs:
            symbols, sizes, mm, config = cloud_to_symbols(m)
            again.append(symbols_to_cloud(symbols.reshape(-1), sizes, mm, header=m.header, config=config, fmt=fmt))
        row[f"rclpy_take_dispatch_{fmt}"] = rclpy_costs(again, min(frames, 2000))[1]
        row[f"read_cloud_{fmt}"] = per_frame_us(lambda: [cloud_to_symbols(m) for m in again * rounds], rounds * robots)
    row["unpack"] = max(row["unpack"] - row["read_cloud"], 0.0)      # unpack_all reads the cloud too
    ours = row["read_cloud"] + row["unpack"] + row["decode_frames"] + row["result_message"] + row["publish_results"]
    row = {k: round(v, 1) for k, v in row.items()}
    row.update(ours=round(ours, 1), ideal=row["decode_frames"],
               ideal_share=round(row["decode_frames"] / (ours + row["rclpy_take_dispatch"]), 3),
               bytes_per_cloud=len(msgs[0].data))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--robots", type=int, default=8)
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--bundles", default="default,small")
    ap.add_argument("--formats", default="int8,coded8", help="symbol formats whose take cost is measured too")
    ap.add_argument("--threads", type=int, default=1, help="torch threads, as the server node's default")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "server_costs.json")
    args = ap.parse_args()
    import rclpy

    torch.set_num_threads(args.threads)
    rclpy.init()
    rows = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            paths = {"default": "default", "small": None}
            for name in args.bundles.split(","):
                path = paths.get(name) or small_bundle(Path(tmp))
                rows[name] = costs(path, args.robots, args.frames, [f for f in args.formats.split(",") if f])
                print(json.dumps({"bundle": name, **rows[name]}), flush=True)
    finally:
        rclpy.shutdown()
    result = {"run": {"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
                                 f"torch {torch.__version__}",
                      "command": "python benchmarks/server_costs.py " + " ".join(sys.argv[1:])},
              "robots": args.robots, "microseconds_per_frame": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
