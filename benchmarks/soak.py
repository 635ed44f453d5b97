"""Soak: the nodes as processes, fed above capacity for a long time; memory and latency must stay flat.

    python benchmarks/soak.py [--duration-min 30] [--rate 60] [--frame-size 640x480]

A camera-driver process (test/camera_driver.py) sends real-size bgr8 frames at
``--rate`` Hz, more than the camera codes, into camera, channel, server and
policy processes started as ``ros2 launch`` starts them. Every ``--sample-s``
seconds the RSS of every node process is read from /proc; every classification
is timed from its camera stamp. After the run every node gets SIGINT and must
exit with status 0.

Written to benchmarks/results/soak.json: per node ``rss_mb`` samples and
``rss_growth`` (last sample / the sample at the end of the first minute, so the
allocator's warm-up does not count), per minute ``classified`` and latency
``p50_ms``/``p95_ms``, and the targets: RSS growth < 5 % per node, last-minute
p50 <= 1.5 x first-minute p50.

This VM's speed changes by 2-3x from one hour to the next, so each minute also
records ``probe_ms``: the median time of a fixed numpy workload run in this
process at every sample. A latency step that the probe shows too is the machine,
not the nodes; ``last_over_first_probe`` sits beside ``last_over_first_p50``, and
``last_over_first_p50_normalised`` is their quotient. Each minute also records
every node's CPU milliseconds per classified frame (user + system time of its
process): a node that does more work per frame as frames pass shows there.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor

from node_footprint import cpu_s, status_kb      # benchmarks/, on the path when run as a script
from semcom_ros.nodes import system
from semcom_ros.nodes.base import RELIABLE, use_packaged_dds_profile

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "test" / "camera_driver.py"
NODES = ("semcom_camera", "semcom_channel", "semcom_server", "semcom_policy")


def probe_ms() -> float:
    """A fixed single-threaded workload: its time follows the machine's speed, not the nodes'."""
    a = np.random.default_rng(0).standard_normal((64, 4096)).astype(np.float32)
    t0 = time.perf_counter()
    for _ in range(20):
        np.tanh(a).sum()
    return (time.perf_counter() - t0) * 1e3


def cpu_per_frame(samples: list[tuple[float, float]], minute: int, frames: int) -> float | None:
    """CPU milliseconds a node spent per classified frame in that minute (from its samples)."""
    inside = [c for t, c in samples if minute * 60 <= t <= (minute + 1) * 60]
    return round(1e3 * (inside[-1] - inside[0]) / frames, 3) if len(inside) >= 2 and frames else None


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration-min", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=120.0, help="driver frames per second (above capacity)")
    ap.add_argument("--frame-size", default="640x480")
    ap.add_argument("--sample-s", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soak.json")
    args = ap.parse_args(argv)
    use_packaged_dds_profile()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

    rclpy.init()
    node = rclpy.create_node("soak_watch")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    results: list[tuple[float, float]] = []       # (receive time, latency s)

    def on_result(msg):
        now = time.time()
        results.append((time.monotonic(), now - (msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec)))

    node.create_subscription(DiagnosticArray, "classification", on_result, RELIABLE)
    procs = system.spawn({"semcom_camera": {"viz_rate_hz": 1.0}}, names=NODES, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    frames = int(args.rate * (args.duration_min * 60 + 300))
    driver = subprocess.Popen([sys.executable, str(DRIVER), "--frames", str(frames), "--rate", str(args.rate),
                               "--size", args.frame_size, "--pool", "50", "--wait", "300"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in NODES}
    cpu: dict[str, list[tuple[float, float]]] = {n: [] for n in NODES}          # (t, CPU seconds so far)
    probes: list[tuple[float, float]] = []
    try:
        end = time.monotonic() + 300
        while not results and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.1)
            if any(p.poll() is not None for p in procs.values()):
                raise RuntimeError({n: p.stderr.read().decode()[-1500:] for n, p in procs.items()
                                    if p.poll() is not None})
        t0 = time.monotonic()
        results.clear()
        stop = t0 + args.duration_min * 60
        next_sample = t0
        while time.monotonic() < stop:
            executor.spin_once(timeout_sec=0.05)
            if time.monotonic() >= next_sample:
                for n, p in procs.items():
                    samples[n].append((time.monotonic() - t0, status_kb(p.pid, "VmRSS") / 1024))
                    cpu[n].append((time.monotonic() - t0, cpu_s(p.pid)))
                probes.append((time.monotonic() - t0, probe_ms()))
                next_sample += args.sample_s
                minute = int((time.monotonic() - t0) // 60)
                print(f"\r{minute:4d} min  {len(results):7d} classified  "
                      + "  ".join(f"{n.split('_')[-1]} {s[-1][1]:.0f} MB" for n, s in samples.items()),
                      end="", file=sys.stderr, flush=True)
    finally:
        driver.send_signal(signal.SIGINT)
        for p in procs.values():
            p.send_signal(signal.SIGINT)
        codes = {n: p.wait(timeout=60) for n, p in procs.items()}
        errors = {n: p.stderr.read().decode(errors="replace") for n, p in procs.items()}
        driver.wait(timeout=60)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    print(file=sys.stderr)

    minutes = []
    for m in range(int(args.duration_min)):
        lat = [1e3 * lat for t, lat in results if m * 60 <= t - t0 < (m + 1) * 60]
        probe = [ms for t, ms in probes if m * 60 <= t < (m + 1) * 60]
        minutes.append({"minute": m + 1, "classified": len(lat),
                        "p50_ms": float(np.percentile(lat, 50)) if lat else None,
                        "p95_ms": float(np.percentile(lat, 95)) if lat else None,
                        "probe_ms": float(np.median(probe)) if probe else None,
                        "cpu_ms_per_frame": {n: cpu_per_frame(c, m, len(lat)) for n, c in cpu.items()}})
    rss = {}
    for n, s in samples.items():
        base = next(mb for t, mb in s if t >= 60.0) if s[-1][0] >= 60.0 else s[0][1]
        rss[n] = {"first_mb": round(base, 1), "last_mb": round(s[-1][1], 1), "rss_growth": s[-1][1] / base,
                  "samples_mb": [round(mb, 1) for _, mb in s]}
    p50s = [m["p50_ms"] for m in minutes if m["p50_ms"] is not None]
    counts = [m["classified"] for m in minutes]
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Fast DDS",
        "model": "default bundle (embedded Fashion-MNIST ViT), configuration from the policy (snr_table)",
        "frames": f"{args.frame_size} bgr8 at {args.rate:g} Hz, best effort", "duration_min": args.duration_min,
        "classified": len(results), "exit_codes": codes,
        "tracebacks": {n: "Traceback" in e for n, e in errors.items()},
        "rss": rss, "minutes": minutes,
        "last_over_first_p50": p50s[-1] / p50s[0] if len(p50s) >= 2 else None,
        "last_over_first_probe": (minutes[-1]["probe_ms"] / minutes[0]["probe_ms"]
                                  if len(minutes) >= 2 and minutes[0]["probe_ms"] else None),
        "throughput_spread": (max(abs(c / np.median(counts) - 1) for c in counts) if counts else None),
        "targets": "rss_growth < 1.05 per node; last-minute p50 <= 1.5 x first-minute p50 after dividing by the "
                   "probe's ratio; classified per minute within 10 % of the median minute; exit 0, no traceback",
    }
    result["last_over_first_p50_normalised"] = (result["last_over_first_p50"] / result["last_over_first_probe"]
                                                if result["last_over_first_p50"] and result["last_over_first_probe"]
                                                else None)
    result["targets_met"] = bool(all(r["rss_growth"] < 1.05 for r in rss.values())
                                 and result["last_over_first_p50_normalised"] is not None
                                 and result["last_over_first_p50_normalised"] <= 1.5
                                 and result["throughput_spread"] is not None and result["throughput_spread"] <= 0.1
                                 and all(c == 0 for c in codes.values())
                                 and not any(result["tracebacks"].values()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("rss", "minutes")}))
    return result


if __name__ == "__main__":
    main()
