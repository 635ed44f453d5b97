"""The split link against classifying on the robot, at equal robot compute (METHOD §9; not a test).

    python benchmarks/equal_compute.py --split-bundles 1:B1,2:B2,3:B3 --robot-bundle R
                                       [--rate 4] [--ratio 0.1] [--channel awgn] [--snrs -5,0,5,10,20]

Every scheme sees the same held-out evaluation scenes (test garments only) and,
per mean SNR, the same fading gain per frame:

- **split link S<s>**: bundle B<s> (the scene model with JSCC codes trained for a
  split after block s): on the robot the patch embedding, blocks 1..s merging
  ``--ratio`` of the tokens each and the JSCC encoder at ``--rate``; the symbols
  through the channel with 16 pilots; the rest on the server;
- **robot-size model + label**: bundle R, a model whose whole forward pass costs
  the robot no more than a split's edge part, on the robot; its class index
  (4 bits) through adaptive modulation and coding (LTE/NR CQI table, 1500-byte
  packets, the MCS picked from the previous frame's SNR);
- **robot-size model + label at the most robust MCS**: the same label, every frame at
  the CQI table's most robust entry (no adaptation: what a team does with 4 bits);
- **whole model + label**: the scene model whole on the robot, its label likewise;
- **image to the server**: the camera frame as JPEG (640x480, or already shrunk to
  the model's input), same code, the whole model on the server; the quality is
  the best in hindsight at the split links' largest channel uses (generous).

Robot compute: MACs, and ms per frame measured here (batch 1, interleaved
rounds; the resize to the model's input, common to all model schemes, is left
out). Channel uses: per frame, mean over frames. A lost frame is wrong.
Writes benchmarks/results/equal_compute.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from digital_baseline import PILOTS, Plan, faded_snrs, parse_list
from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.data import frame_codecs
from semcom_ros.core.data.scene_sets import scene_generator, scene_images
from semcom_ros.core.link.channels import Channel
from semcom_ros.core.link.digital_link import label_bits
from semcom_ros.core.model.macs import VitShape, edge_macs, macs, scheduled_token_counts
from semcom_ros.core.model.merging_vit import MergeSchedule

RESULTS = Path(__file__).parent / "results"
CODE = "practical"
JPEG_QUALITIES = (10, 30, 50, 80, 95)
ROBUST_LABEL = "robot-size model + label at the most robust MCS"


def timed_rounds(fns: list, rounds: int, frames: int) -> list[float]:
    """Median ms per call of each function, called in interleaved rounds so machine noise hits all alike."""
    for f in fns:
        f()
    per = [[] for _ in fns]
    for _ in range(rounds):
        for k, f in enumerate(fns):
            t = time.perf_counter()
            for _ in range(frames):
                f()
            per[k].append(1e3 * (time.perf_counter() - t) / frames)
    return [float(np.median(p)) for p in per]


@torch.no_grad()
def predictions(model, x: torch.Tensor, batch: int = 250) -> np.ndarray:
    return np.concatenate([model(x[i:i + batch]).argmax(-1).numpy() for i in range(0, len(x), batch)])


@torch.no_grad()
def split_outcomes(link, x, y, gains, snrs, channel: str, seed: int) -> tuple[np.ndarray, int]:
    """Correct (SNR, frame) through the channel and channel uses per frame (data + pilots)."""
    tx = Channel(channel, csi="pilot", n_pilots=PILOTS)
    gen = torch.Generator().manual_seed(seed)
    correct = np.zeros((len(snrs), len(y)), bool)
    uses = 0
    for i in range(0, len(y), 250):
        frame = link.edge(x[i:i + 250])
        uses = frame.channel_uses + PILOTS
        for k, snr in enumerate(snrs):
            rx = tx.transmit(frame.symbols, snr, gen, h=gains[k][i:i + 250])
            pred = link.decode(rx.symbols, rx.decoder_snr_db, frame.sizes).argmax(-1).numpy()
            correct[k, i:i + 250] = pred == y[i:i + 250]
    return correct, uses


def digital_row(bits: np.ndarray, pred: np.ndarray, y: np.ndarray, eff: list[np.ndarray], n: float,
                adapt: bool = True) -> dict:
    """Accuracy at each SNR within ``n`` channel uses and the mean uses the chosen MCS needs."""
    plans = [Plan(bits, pred, y, e, CODE, adapt) for e in eff]
    return {"accuracy": [p.accuracy(n) for p in plans],
            "channel_uses": [float(np.mean(p.uses[:, 0])) for p in plans]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split-bundles", required=True, help="split:bundle, comma list (codes trained at that split)")
    ap.add_argument("--robot-bundle", required=True, help="the robot-size model's bundle")
    ap.add_argument("--rate", type=int, default=4)
    ap.add_argument("--ratio", type=float, default=0.1, help="merge ratio of each edge block")
    ap.add_argument("--channel", default="awgn")
    ap.add_argument("--snrs", default="-5,0,5,10,20")
    ap.add_argument("--first", type=int, default=1000, help="first evaluation scene (searches use those before)")
    ap.add_argument("--n-images", type=int, default=2000, help="evaluation scenes")
    ap.add_argument("--jpeg-frames", type=int, default=300, help="of those, sent as 640x480 JPEGs too")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "equal_compute.json")
    args = ap.parse_args()
    started = time.time()
    torch.set_num_threads(args.threads)
    snrs = parse_list(args.snrs)
    splits = {int(s): load_bundle(b) for s, b in (item.split(":", 1) for item in args.split_bundles.split(","))}
    robot = load_bundle(args.robot_bundle).link(None)
    links = {s: b.link(args.rate) for s, b in splits.items()}
    for s, link in links.items():
        if link.split != s:
            raise SystemExit(f"bundle for split {s} has its codes at split {link.split}")
        link.schedule = MergeSchedule(ratios=[args.ratio] * s + [0.0] * (link.depth - s))
    whole = next(iter(splits.values())).link(None)          # its own copy of the model, never merging
    config = whole.loaded.config

    first = args.first
    data = scene_images("eval", first + args.n_images, tuple(config["input_size"][1:]))
    views, y = data.images[first:], np.asarray(data.labels[first:])
    x = whole.preprocess(list(views))
    generator = scene_generator("eval")
    frames = [generator.scene(i).image for i in range(first, first + min(args.jpeg_frames, len(y)))]

    gains, eff = faded_snrs(args.channel, snrs, len(y), torch.Generator().manual_seed(args.seed + 1))
    rows = {}
    for s, link in tqdm(links.items(), desc="split links", leave=False):
        shape = VitShape.of(link.model)
        counts = scheduled_token_counts(shape, link.schedule.ratios)
        correct, uses = split_outcomes(link, x, y, gains, snrs, args.channel, args.seed)
        rows[f"split link S{s} + server"] = {
            "robot_mmacs": edge_macs(shape, counts, s, link.jscc.encoder[0].out_features, args.rate) / 1e6,
            "channel_uses": [uses] * len(snrs), "accuracy": correct.mean(axis=1).tolist()}
    n_max = max(r["channel_uses"][0] for r in rows.values())
    bits = np.full(len(y), label_bits(len(whole.loaded.class_names)))
    # the robust row sends the robot-size model's labels: same predictions, same robot cost, another MCS rule
    labelled = {"robot-size model + label": (robot.model, True), ROBUST_LABEL: (robot.model, False),
                "whole model on the robot + label": (whole.model, True)}
    preds = {id(model): predictions(model, x) for model in (robot.model, whole.model)}
    for name, (model, adapt) in labelled.items():
        rows[name] = {"robot_mmacs": macs(VitShape.of(model)) / 1e6,
                      **digital_row(bits, preds[id(model)], y, eff, np.inf, adapt)}
    best = None
    for size in ("model input", "640x480"):
        for q in JPEG_QUALITIES:
            imgs = views[:len(frames)] if size == "model input" else frames
            files = [frame_codecs.encode(f, "jpeg", q) for f in imgs]
            xd = whole.preprocess([frame_codecs.decode(b, grey=False) for b in files])
            row = digital_row(np.array([8 * len(b) for b in files]), predictions(whole.model, xd),
                              y[:len(frames)], [e[:len(frames)] for e in eff], n_max)
            row["variant"], row["size"] = f"jpeg q{q} {size}", size
            if best is None or np.mean(row["accuracy"]) > np.mean(best["accuracy"]):
                best = row
    best["robot_mmacs"] = 0.0
    image_name = f"image to the server ({best.pop('variant')}, <= {n_max} uses)"
    rows[image_name] = best

    # what each row costs the robot per frame, timed together (batch 1; the image row: encoding it, q80)
    one, picture = x[:1], views[0] if best.pop("size") == "model input" else frames[0]
    timers = {f"split link S{s} + server": (lambda link=link: link.edge(one)) for s, link in links.items()}
    timers.update({"robot-size model + label": lambda: robot.model(one),
                   "whole model on the robot + label": lambda: whole.model(one),
                   image_name: lambda: frame_codecs.encode(picture, "jpeg", 80)})
    with torch.no_grad():
        for name, t in zip(timers, timed_rounds(list(timers.values()), args.rounds, 20)):
            rows[name]["robot_ms"] = t
    rows[ROBUST_LABEL]["robot_ms"] = rows["robot-size model + label"]["robot_ms"]     # the same forward pass

    report = {"run": {"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {args.threads} torch threads, torch {torch.__version__}",
                      "command": "python benchmarks/equal_compute.py " + " ".join(sys.argv[1:]),
                      "seconds": round(time.time() - started, 1)},
              "scenes": f"evaluation scenes {first}..{first + len(y) - 1} (JPEG rows: the first {len(frames)})",
              "channel": args.channel, "snrs_db": snrs, "rate": args.rate, "ratio": args.ratio, "code": CODE,
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))


def table(report: dict) -> str:
    snrs = report["snrs_db"]
    head = ("| scheme | robot MMACs | robot ms/frame | channel uses/frame | "
            + " | ".join(f"acc. {s:g} dB" for s in snrs) + " |")
    lines = [f"{report['channel']}, rate {report['rate']}, merge ratio {report['ratio']} on edge blocks; digital "
             f"rows: the uses their MCS needs from the lowest to the highest SNR (the image row is scored within "
             f"the split links' uses)", "",
             head, "|---" * (4 + len(snrs)) + "|"]
    for name, r in report["rows"].items():
        uses = r["channel_uses"]
        uses_text = f"{uses[0]:.0f}" if max(uses) - min(uses) < 0.5 else f"{uses[0]:.0f} → {uses[-1]:.0f}"
        lines.append(f"| {name} | {r['robot_mmacs']:.1f} | {r['robot_ms']:.2f} | {uses_text} | "
                     + " | ".join(f"{100 * a:.1f}" for a in r["accuracy"]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
