"""A fleet on one server: batched vs one-at-a-time throughput, memory, and a shared link budget (not a test).

    python benchmarks/fleet.py [--parts throughput,budget] [--seconds 12] [--threads 1]
        [--bundles small,default]

throughput: a server process (``server_node`` with ``robots: [r1..rN]``) is fed by
N closed-loop robots in this process (each publishes its next received frame as
soon as the server answers its last), for N = 1, 2, 4, 8, with ``max_batch`` 8
(batched) and 1 (single), on two bundles: ``vit_small_patch16_224`` (own 10-class
head, random weights, JSCC rate 4, split after block 6, robots' frames merged
differently so the server pads) and the built-in one. ``ideal_fps`` is the same
server half (``decode_frames``) called directly on batches of N in a loop, no ROS.
Every answer is checked against the one-frame decoding of its frame. ``rss_mb``:
the server's resident memory at the end of each run; ``server_cpu`` and
``load_cpu`` (batched, single): CPU seconds per second of the server process and
of this load process (1.0 = one core busy), to tell which side limited the rate;
``server_cpu_ms_per_frame`` what the server process spent on each frame.

budget: four robots at -5, 5, 15 and 25 dB mean SNR (``--snrs``) on ``--channel``
(AWGN by default; with a time-correlated model each robot moves at its own
``--speeds`` m/s on ``--carrier`` GHz, pilot CSI, and the policies read the front's
table for that channel; seeded, held-out embedded images, built-in bundle's
joint front), 10 frames/s each, one budget of channel
uses per second: ``shared_budget`` (one queue for the fleet) vs ``equal_share``
(each robot its own lyapunov on budget/4). Common random numbers: every
configuration is run on every robot's every frame once, and each policy reads
the outcomes of its choices.

Writes benchmarks/results/fleet.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from fleet_budget import shared_budget  # noqa: E402
from node_footprint import cpu_s, status_kb  # noqa: E402

from semcom_ros.core.bundle.bundle import load_bundle  # noqa: E402
from semcom_ros.core.link.channel_models import CHANNELS  # noqa: E402
from semcom_ros.tools.cli_common import bundle_images  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ROBOT_COUNTS = (1, 2, 4, 8)
SMALL_SCHEDULES = {"none": [0.0] * 12, "light": [0.1] * 6 + [0.0] * 6, "heavy": [0.25] * 6 + [0.0] * 6}


def small_bundle(root: Path) -> Path:
    """vit_small_patch16_224 with a 10-class head and random weights, JSCC rate 4 after block 6, a 3-point front."""
    from semcom_ros.core.link.jscc import JSCC
    from semcom_ros.tools import bundle as bundle_cli

    path = root / "vit_small"
    names = root / "classes.txt"
    names.write_text("\n".join(f"class_{i}" for i in range(10)))
    bundle_cli.main(["create", str(path), "--model", "vit_small_patch16_224", "--class-names", str(names)])
    b = load_bundle(path).writable()
    torch.manual_seed(0)
    b.save_jscc(4, JSCC(384, 4), split=6)
    b.save_front(4, {"format": 1, "model": "vit_small_patch16_224", "rate": 4, "depth": 12,
                     "operating_points": {"S1": "none", "S2": "light", "S3": "heavy"},
                     "configurations": [{"name": n, "ratios": r, "accuracy": 0.1, "gmacs": 1.0, "channel_uses": 1.0}
                                        for n, r in SMALL_SCHEDULES.items()]})
    b.save()
    return path


def robot_frames(bundle_path, n_robots: int, pool: int = 4):
    """Per robot: ``pool`` received frames as PointCloud2 (differently merged per robot) and their one-frame class."""
    from semcom_ros.core.link.channels import propagate, with_pilots
    from semcom_ros.core.model.merging_vit import MergeSchedule
    from semcom_ros.core.link.padded_batch import ReceivedFrame, decode_frames
    from semcom_ros.nodes.symbol_cloud import symbols_to_cloud

    bundle = load_bundle(bundle_path)
    link, front = bundle.link(4, all_rates=True), bundle.front(4)
    data = bundle_images(bundle)
    confs = [c for c in front.configurations if c.rate == 4 and c.thresholds is None][:3]
    gen = torch.Generator().manual_seed(0)
    out, frames = [], []
    for r in range(n_robots):
        conf = confs[r % len(confs)]
        link.use(conf)
        msgs = []
        for k in range(pool):
            img = data.images[(r * pool + k) % len(data.images)]
            edge = link.edge(link.preprocess([np.repeat(img[:, :, None], 3, axis=2)]))
            tx = with_pilots(edge.symbols, 16, 1.0)
            y, _, _ = propagate(tx, "awgn", 15.0, gen)
            frame = ReceivedFrame.from_received(y[0], 16, edge.sizes[0], 4, MergeSchedule.of(conf))
            cls = int(decode_frames(link, [frame])[0].argmax())
            msg = symbols_to_cloud(y[0].numpy(), [0.0] * 4 + edge.sizes[0].tolist(), 4,
                                   config=front.names.index(conf.name))
            msg.header.frame_id = f"{r}:{k}"
            msgs.append((msg, cls))
            frames.append(frame)
        out.append(msgs)
    return out, frames, link


def ideal_fps(link, frames, n: int, seconds: float, max_padding: float) -> float:
    """The server half on the same N robots' frames (one each), called directly in a loop."""
    from semcom_ros.core.link.padded_batch import decode_frames

    pool = len(frames) // max(ROBOT_COUNTS)
    done, t0, k = 0, time.perf_counter(), 0
    decode_frames(link, [frames[r * pool] for r in range(n)], max_padding)
    while time.perf_counter() - t0 < seconds:
        decode_frames(link, [frames[r * pool + k % pool] for r in range(n)], max_padding)
        done += n
        k += 1
    return done / (time.perf_counter() - t0)


def serve(bundle_path, msgs, max_batch: int, threads: int, seconds: float, max_padding: float) -> dict:
    """One server process, N closed-loop robots here: fps, p50 end-to-end latency, label mismatches, RSS."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import PointCloud2

    from semcom_ros.nodes import system as wiring
    from semcom_ros.nodes.base import RELIABLE

    robots = [f"r{i + 1}" for i in range(len(msgs))]
    proc = wiring.spawn({"semcom_server": {"robots": robots, "bundle": str(bundle_path), "max_batch": max_batch,
                                           "threads": threads, "max_padding": max_padding}}, names=("semcom_server",),
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)["semcom_server"]
    node = rclpy.create_node(f"fleet_load_{max_batch}_{len(robots)}")
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    pubs = [node.create_publisher(PointCloud2, f"/{r}/received_symbols", RELIABLE) for r in robots]
    state = {"next": [0] * len(robots), "sent_at": [0.0] * len(robots), "measure": False,
             "done": 0, "lat": [], "wrong": 0, "resent": 0}

    def send(i):
        k = state["next"][i] % len(msgs[i])
        msg = msgs[i][k][0]
        msg.header.stamp = node.get_clock().now().to_msg()
        state["sent_at"][i] = time.perf_counter()
        pubs[i].publish(msg)

    def answer(i, out):
        kv = {v.key: v.value for v in out.status[0].values}
        k = int(out.header.frame_id.split(":")[1])
        if state["measure"]:
            state["done"] += 1
            state["lat"].append((time.perf_counter() - state["sent_at"][i]) * 1e3)
            state["wrong"] += int(kv["class_id"]) != msgs[i][k][1]
        state["next"][i] += 1
        send(i)

    for i, r in enumerate(robots):
        node.create_subscription(DiagnosticArray, f"/{r}/classification", lambda m, i=i: answer(i, m), RELIABLE)
    end = time.monotonic() + 120
    while time.monotonic() < end and not all(p.get_subscription_count() for p in pubs):
        ex.spin_once(timeout_sec=0.1)
    if proc.poll() is not None:
        raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
    time.sleep(1.0)
    for i in range(len(robots)):
        send(i)

    def run_for(s):
        stop = time.monotonic() + s
        while time.monotonic() < stop:
            ex.spin_once(timeout_sec=0.05)
            for i in range(len(robots)):       # an answer that never came (lost on the way): send again
                if time.perf_counter() - state["sent_at"][i] > 5.0:
                    state["resent"] += 1
                    send(i)
    run_for(3.0)                   # warm-up
    state["measure"] = True
    t0, cpu0, own0 = time.monotonic(), cpu_s(proc.pid), time.process_time()
    run_for(seconds)
    elapsed = time.monotonic() - t0
    server_cpu, load_cpu = (cpu_s(proc.pid) - cpu0) / elapsed, (time.process_time() - own0) / elapsed
    state["measure"] = False
    rss = status_kb(proc.pid, "VmRSS") / 1024
    proc.send_signal(2)
    code = proc.wait(timeout=30)
    ex.shutdown()
    node.destroy_node()
    return {"fps": state["done"] / elapsed, "e2e_ms_p50": float(np.median(state["lat"])) if state["lat"] else None,
            "answers": state["done"], "label_mismatches": state["wrong"], "resent": state["resent"],
            "rss_mb": round(rss, 1), "exit": code, "server_cpu": round(server_cpu, 2), "load_cpu": round(load_cpu, 2)}


def throughput(args, work: Path) -> list[dict]:
    import rclpy

    rclpy.init()
    rows = []
    try:
        bundles = {"small": ("vit_small_patch16_224 (random weights, split after block 6, rate 4)", small_bundle),
                   "default": ("default (built-in)", lambda work: "default")}
        for label, make in (bundles[b] for b in args.bundles.split(",")):
            path = make(work)
            msgs, frames, link = robot_frames(path, max(ROBOT_COUNTS))
            torch.set_num_threads(args.threads)
            for n in ROBOT_COUNTS:
                ideal = ideal_fps(link, frames, n, args.ideal_seconds, args.max_padding)
                batched = serve(path, msgs[:n], 8, args.threads, args.seconds, args.max_padding)
                single = serve(path, msgs[:n], 1, args.threads, args.seconds, args.max_padding)
                row = {"bundle": label, "robots": n, "batched_fps": round(batched["fps"], 2),
                       "single_fps": round(single["fps"], 2), "speedup": round(batched["fps"] / single["fps"], 3),
                       "ideal_fps": round(ideal, 2), "batched_over_ideal": round(batched["fps"] / ideal, 3),
                       "e2e_ms_p50": round(batched["e2e_ms_p50"], 2),
                       "single_e2e_ms_p50": round(single["e2e_ms_p50"], 2),
                       "label_mismatches": batched["label_mismatches"] + single["label_mismatches"],
                       "answers_checked": batched["answers"] + single["answers"],
                       "resent": batched["resent"] + single["resent"], "rss_mb": batched["rss_mb"],
                       "server_cpu": [batched["server_cpu"], single["server_cpu"]],
                       "server_cpu_ms_per_frame": [round(1e3 * r["server_cpu"] / r["fps"], 3)
                                                   for r in (batched, single)],
                       "load_cpu": [batched["load_cpu"], single["load_cpu"]],
                       "exits": [batched["exit"], single["exit"]]}
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        rclpy.shutdown()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="throughput,budget")
    ap.add_argument("--seconds", type=float, default=12.0, help="measured seconds per server run")
    ap.add_argument("--ideal-seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the server and of the ideal loop")
    ap.add_argument("--max-padding", type=float, default=0.2, help="the server's max_padding (and the ideal loop's)")
    ap.add_argument("--bundles", default="small,default", help="the throughput part's bundles: small, default")
    ap.add_argument("--snrs", default="-5,5,15,25")
    ap.add_argument("--weights", default="", help="per robot, comma-separated (default: all 1)")
    ap.add_argument("--bundle", default="default", help="the budget part's bundle")
    ap.add_argument("--channel", default="awgn", choices=CHANNELS, help="the budget part's channel model")
    ap.add_argument("--speeds", default="", help="per robot, m/s, comma-separated (default: all 0)")
    ap.add_argument("--carrier", type=float, default=2.4, help="GHz")
    ap.add_argument("--hz", type=float, default=10.0)
    ap.add_argument("--budget-seconds", type=float, default=90.0)
    ap.add_argument("--budget-per-frame", type=float, default=80.0, help="mean channel uses per frame of the budget")
    ap.add_argument("--v", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "fleet.json")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    if "date" in report:        # a file from before the parts said when each was measured: it was both at once
        run = {k: report.pop(k) for k in ("date", "machine", "command") if k in report}
        report.setdefault("throughput_run", run), report.setdefault("budget_run", run)
    for part in parts:          # each part says when and how it was measured; the other part's figures stay
        report[f"{part}_run"] = {"date": datetime.date.today().isoformat(),
                                 "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
                                 "command": "python benchmarks/fleet.py " + " ".join(sys.argv[1:])}
    if "throughput" in parts:
        with tempfile.TemporaryDirectory() as work:
            rows = report["throughput"] = throughput(args, Path(work))
        at8 = [r for r in rows if r["robots"] == max(ROBOT_COUNTS)]
        one = {r["bundle"]: r["rss_mb"] for r in rows if r["robots"] == 1}
        report["threads"], report["max_padding"] = args.threads, args.max_padding
        report["throughput_targets"] = {r["bundle"]: {
            "batched_at_least_0.9_ideal": bool(r["batched_fps"] >= 0.9 * r["ideal_fps"]),
            "batched_at_least_0.5_ideal": bool(r["batched_fps"] >= 0.5 * r["ideal_fps"]),
            "batched_at_least_single": bool(r["batched_fps"] >= r["single_fps"]),
            "labels_identical": bool(r["label_mismatches"] == 0),
            "rss_8_over_1": round(r["rss_mb"] / one[r["bundle"]], 3),
            "rss_8_within_1.2x_of_1": bool(r["rss_mb"] <= 1.2 * one[r["bundle"]])} for r in at8}
    if "budget" in parts:
        rows = report["shared_budget"] = shared_budget(args)
        by = {r["policy"]: r for r in rows}
        report["budget_setup"] = {"snrs_db": args.snrs, "channel": args.channel, "speeds_mps": args.speeds,
                                  "carrier_ghz": args.carrier, "hz_per_robot": args.hz, "seconds": args.budget_seconds,
                                  "budget_per_frame": args.budget_per_frame, "v": args.v, "seed": args.seed}
        report["budget_targets"] = {
            "fleet_at_least_equal_share": bool(by["shared_budget"]["weighted_accuracy"]
                                               >= by["equal_share"]["weighted_accuracy"]),
            "fleet_gain_points": round(100 * (by["shared_budget"]["weighted_accuracy"]
                                              - by["equal_share"]["weighted_accuracy"]), 2),
            "fleet_within_1.02_budget": bool(by["shared_budget"]["channel_uses_per_s"]
                                             <= 1.02 * by["shared_budget"]["budget"])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
