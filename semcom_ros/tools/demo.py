"""semcom-demo: the whole system in one process, no launch files, no network.

Camera frames (the shelf stream for a scene-trained bundle) -> edge ViT with merging -> JSCC -> a channel
(AWGN, or a moving robot's: ``--channel correlated_rayleigh --speed 2``) whose
mean SNR sweeps from --low to --high dB and back -> server -> labels, while
the policy manager switches Pareto configurations. Prints a live table and
writes a Markdown + PNG report.

    semcom-demo --duration 60 --out demo_report
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32

from ..core.link.channel_models import CHANNELS
from ..nodes import system
from ..nodes.base import RELIABLE, use_packaged_dds_profile
from ..nodes.msg_convert import image_to_array

ROW = ("{t:6.1f}  {snr:6.1f}  {est:6.1f}  {conf:>16}  {rate:>4}  {tokens:>6}  {uses:>5}  {gmacs:>8}  {ok:>3}  "
       "{acc:6.1%}  {lat:7.1f}")
THUMB = (192, 144)         # width, height of the frames kept for the report's sheet
SHEET = 8                  # frames on the sheet, spread over the run
HEADER = "  t(s)  SNR dB  est dB     configuration  rate  tokens  uses     GMACs  ok?  run.acc  lat(ms)"


class Monitor(Node):
    """Joins results with ground truth and the link SNR; keeps the rows for the report."""

    def __init__(self, quiet: bool = False):
        super().__init__("semcom_demo_monitor")
        self.quiet, self.t0 = quiet, time.monotonic()
        self.truth: dict[tuple[int, int], tuple[int, str]] = {}
        self.thumbs: dict[tuple[int, int], np.ndarray] = {}
        self.snr = float("nan")
        self.rows: list[dict] = []
        self.sheet: list[tuple[dict, np.ndarray]] = []     # (row, thumbnail), every stride-th classified frame
        self.stride = 1                                      # doubles as the run goes on: memory stays bounded
        self.create_subscription(DiagnosticArray, "ground_truth", self.on_truth, RELIABLE)
        self.create_subscription(Image, "image", self.on_image, qos_profile_sensor_data)
        self.create_subscription(DiagnosticArray, "classification", self.on_result, RELIABLE)
        self.create_subscription(Float32, "link_snr", lambda m: setattr(self, "snr", m.data), RELIABLE)
        if not quiet:
            print(HEADER, flush=True)

    def on_truth(self, msg: DiagnosticArray) -> None:
        values = {kv.key: kv.value for kv in msg.status[0].values}
        self.truth[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = (int(values["class_id"]), values["label"])

    def on_image(self, msg: Image) -> None:
        """A small copy of what the camera saw, for the report's sheet of frames (the last 50 kept)."""
        self.thumbs[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = cv2.resize(
            image_to_array(msg), THUMB, interpolation=cv2.INTER_AREA)
        while len(self.thumbs) > 50:
            self.thumbs.pop(next(iter(self.thumbs)))

    def on_result(self, msg: DiagnosticArray) -> None:
        v = {kv.key: kv.value for kv in msg.status[0].values}
        stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        truth, truth_label = self.truth.pop(stamp, (None, ""))
        thumb = self.thumbs.pop(stamp, None)
        correct = None if truth is None else int(v["class_id"]) == truth
        row = {"t": time.monotonic() - self.t0, "snr": self.snr, "est": float(v["estimated_snr_db"]),
               "conf": v["configuration"], "rate": int(v["rate"]), "tokens": int(v["tokens"]),
               "gmacs": float(v["gmacs"]),
               "channel_uses": int(v["channel_uses"]), "correct": correct, "latency_ms": 1e3 * float(v["latency_s"]),
               "said": v.get("label", v["class_id"]), "truth": truth_label}
        self.rows.append(row)
        if thumb is not None and len(self.rows) % self.stride == 0:
            self.sheet.append((row, thumb))
            if len(self.sheet) > 4 * SHEET:
                self.sheet, self.stride = self.sheet[::2], 2 * self.stride
        judged = [r["correct"] for r in self.rows if r["correct"] is not None]
        acc = sum(judged) / len(judged) if judged else float("nan")
        row["running_accuracy"] = acc
        if not self.quiet:
            print(ROW.format(t=row["t"], snr=row["snr"], est=row["est"], conf=row["conf"], rate=row["rate"],
                             tokens=row["tokens"], uses=row["channel_uses"], gmacs=f"{row['gmacs']:.4f}",
                             ok={True: "yes", False: "no", None: "-"}[correct],
                             acc=acc, lat=row["latency_ms"]), flush=True)


def write_report(rows: list[dict], out: Path, args, sheet: list[tuple[dict, np.ndarray]] = ()) -> dict:
    from .plots import frame_sheet, pyplot

    plt = pyplot()
    out.mkdir(parents=True, exist_ok=True)
    judged = [r for r in rows if r["correct"] is not None]
    confs = sorted({r["conf"] for r in rows})
    summary = {"frames": len(rows), "accuracy": sum(r["correct"] for r in judged) / max(len(judged), 1),
               "mean_gmacs": sum(r["gmacs"] for r in rows) / max(len(rows), 1),
               "mean_channel_uses": sum(r["channel_uses"] for r in rows) / max(len(rows), 1),
               "median_latency_ms": sorted(r["latency_ms"] for r in rows)[len(rows) // 2] if rows else None,
               "configurations": {c: sum(r["conf"] == c for r in rows) for c in confs},
               "frames_by_rate": {m: sum(r["rate"] == m for r in rows) for m in sorted({r["rate"] for r in rows})},
               "rate_switches": sum(a["rate"] != b["rate"] for a, b in zip(rows, rows[1:]))}
    fig, axes = plt.subplots(5, 1, figsize=(8, 9.5), sharex=True)
    t = [r["t"] for r in rows]
    axes[0].plot(t, [r["snr"] for r in rows], label="mean link SNR (link_snr)")
    axes[0].plot(t, [r["est"] for r in rows], ".", ms=3, label="this frame's link (pilot estimate)")
    axes[0].set_ylabel("SNR (dB)")
    axes[0].legend(loc="upper right")
    axes[1].plot(t, [confs.index(r["conf"]) for r in rows], drawstyle="steps-post")
    axes[1].set_yticks(range(len(confs)), confs)
    axes[1].set_ylabel("configuration")
    axes[2].plot(t, [r["rate"] for r in rows], drawstyle="steps-post")
    axes[2].set_yticks(sorted({r["rate"] for r in rows}))
    axes[2].set_ylabel("JSCC rate\n(symbols/token)")
    axes[3].plot(t, [r["channel_uses"] for r in rows], drawstyle="steps-post", label="channel uses")
    axes[3].set_ylabel("channel uses / frame")
    gm = axes[3].twinx()
    gm.plot(t, [r["gmacs"] for r in rows], drawstyle="steps-post", color="tab:orange", lw=0.8)
    gm.set_ylabel("GMACs / frame", color="tab:orange")
    axes[4].plot(t, [100 * r["running_accuracy"] for r in rows])
    axes[4].set_ylabel("running acc. (%)")
    axes[4].set_xlabel("time (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "demo.png", dpi=110)
    plt.close(fig)
    lines = ["# semcom_ros demo run", "",
             f"Command: `semcom-demo --duration {args.duration} --rate {args.rate} --low {args.low} "
             f"--high {args.high} --channel {args.channel} --speed {args.speed}`", "",
             "| frames | accuracy | mean GMACs | mean channel uses | median latency (ms) |",
             "|---|---|---|---|---|",
             f"| {summary['frames']} | {summary['accuracy']:.1%} | {summary['mean_gmacs']:.4f} | "
             f"{summary['mean_channel_uses']:.0f} | {summary['median_latency_ms'] or 0:.1f} |", "",
             "Frames per configuration: " + ", ".join(f"{c}: {n}" for c, n in summary["configurations"].items()),
             "", "Frames per JSCC rate: " + ", ".join(f"{m}: {n}" for m, n in summary["frames_by_rate"].items())
             + f" ({summary['rate_switches']} rate switches)", "",
             "![SNR, configuration, rate, channel uses, GMACs and accuracy over time](demo.png)", ""]
    if sheet:
        picks = [sheet[round(i)] for i in np.linspace(0, len(sheet) - 1, min(SHEET, len(sheet)))]
        frame_sheet(picks, out / "frames.png")
        lines += ["What the camera saw and what the server said (green: right, red: wrong, grey: no item at the "
                  "centre, not scored), with the configuration and the link's mean SNR:", "",
                  "![frames across the run with their labels](frames.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    (out / "rows.json").write_text(json.dumps(rows))
    summary["sheet_frames"] = min(SHEET, len(sheet))
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds (one SNR sweep up and back)")
    ap.add_argument("--rate", type=float, default=5.0, help="frames per second")
    ap.add_argument("--low", type=float, default=-5.0, help="lowest SNR (dB)")
    ap.add_argument("--high", type=float, default=25.0, help="highest SNR (dB)")
    ap.add_argument("--channel", choices=CHANNELS, default="awgn", help="channel model")
    ap.add_argument("--speed", type=float, default=1.0, help="robot speed (m/s), for the fading's Doppler")
    ap.add_argument("--policy", default="snr_table", help="policy manager mode")
    ap.add_argument("--source", choices=("embedded", "scenes"), default=None,
                    help="frames: the shelf stream for a scene-trained bundle, else the embedded garments (default)")
    ap.add_argument("--out", type=Path, default=Path("demo_report"))
    ap.add_argument("--quiet", action="store_true", help="no live table")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.rate <= 0 or args.high < args.low:
        print("semcom-demo: error: need duration > 0, rate > 0 and high >= low", file=sys.stderr)
        return 2

    from ..core.bundle.bundle import load_bundle

    default_source = "scenes" if load_bundle("default").eval_images == "scenes" else "embedded"
    source = args.source = args.source or default_source
    use_packaged_dds_profile()
    rclpy.init()
    executor = SingleThreadedExecutor()
    try:
        nodes = [Monitor(args.quiet), *system.build({
            "image_source": {"rate_hz": args.rate, "source": source}, "semcom_camera": {"viz_rate_hz": 0.0},
            "semcom_channel": {"profile": "sine", "low_db": args.low, "high_db": args.high,
                               "period_s": args.duration, "channel": args.channel, "speed_mps": args.speed},
            "semcom_policy": {"mode": args.policy}}).values()]
        for n in nodes:
            executor.add_node(n)
        end = time.monotonic() + args.duration
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        executor.shutdown()
        rows = nodes[0].rows if "nodes" in locals() else []
        sheet = nodes[0].sheet if "nodes" in locals() else []
        for n in locals().get("nodes", []):
            n.destroy_node()
        rclpy.try_shutdown()
    if not rows:
        print("semcom-demo: no frames were classified", file=sys.stderr)
        return 1
    summary = write_report(rows, args.out, args, sheet)
    print(json.dumps({"report": str(args.out / "report.md"), "source": source, **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
