"""Against what a team would do instead, at equal channel uses per frame (METHOD §8).

    python benchmarks/digital_baseline.py [--bundle default] [--images SET] [--n-images 1000]
                                          [--channels awgn,rayleigh]

On held-out images (those after the ones the front search used), every scheme sees the same
frames and, per mean SNR, the same fading gain per frame (common random numbers):

- **semantic** (this package): the joint front's configuration the
  ``max_accuracy_under_cap`` policy picks for the budget (its offline table at
  the mean SNR), and the ``lyapunov`` policy with the budget as its long-term
  mean; channel uses = data symbols + 16 pilots;
- **image**: the frame as a camera pipeline sends it (JPEG and WebP at several
  qualities, PNG; at the image's own size (28x28 for the embedded set) and as a
  640x480 camera frame),
  classified by the full model on the server, through an ideal
  capacity-achieving code or adaptive modulation and coding (LTE/NR CQI table,
  1500-byte packets): ``practical`` picks the MCS from the previous frame's
  SNR, as links adapt; ``robust`` takes the most robust MCS that fits the
  budget. Per cell the best codec and quality in hindsight is reported
  (generous to the baseline);
- **video** (with a scene bundle): the shelf stream as H.264/H.265 at equal channel
  uses per frame, decoded as received (benchmarks/video_baseline.py);
- **label**: the full model on the robot, its class index through the same codes;
  with ``--robot-bundle``, also **label (robot-size model)**: a model whose whole
  pass costs the robot no more than the split link's edge part
  (benchmarks/equal_compute.py), its class index likewise.

A lost frame counts as wrong ("hold" columns: it repeats the last label that
arrived). Also: channel uses each scheme needs for the target accuracy, edge
compute, bytes on the wire per frame as ROS messages, and the accuracy cost of
quantized symbols (int8, int4) through the message path. Writes
benchmarks/results/digital_baseline.json and .png.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from semcom_ros.core.data import frame_codecs
from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.link.channels import Channel, fading_gains
from semcom_ros.core.link.digital_link import CODES, label_bits, scored, ways_to_arrive
from semcom_ros.core.data.frame_sources import camera_frame
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.policies.robot import make_policy
from semcom_ros.tools.cli_common import image_set

from digital_baseline_report import plot, print_tables

RESULTS = Path(__file__).parent / "results"
PILOTS = 16
VARIANTS = [("jpeg", q) for q in (10, 30, 50, 80, 95)] + [("webp", q) for q in (5, 20, 50, 80)] + [("png", None)]
BUDGET_GRID = np.unique(np.round(np.geomspace(8, 400_000, 200)).astype(int))


def parse_list(text: str, kind=float) -> list:
    return [kind(v) for v in text.split(",") if v.strip()]


@torch.no_grad()
def semantic_outcomes(link, front, x, y, gains, snrs, channel: str, seed: int) -> dict:
    """Per configuration: correct (SNR index, frame) and channel uses per frame (data + pilots)."""
    out = {}
    tx = Channel(channel, csi="pilot", n_pilots=PILOTS)
    for conf in tqdm(front.configurations, desc=f"semantic on {channel}", leave=False):
        link.rate, link.schedule = conf.rate, MergeSchedule.of(conf)
        frame = link.edge(x)
        gen = torch.Generator().manual_seed(seed)
        correct = np.zeros((len(snrs), len(y)), bool)
        for k, snr in enumerate(snrs):
            rx = tx.transmit(frame.symbols, snr, gen, h=gains[k])
            correct[k] = (link.decode(rx.symbols, rx.decoder_snr_db, frame.sizes).argmax(-1) == y).numpy()
        out[conf.name] = {"correct": correct, "uses": frame.channel_uses + PILOTS}
    return out


@torch.no_grad()
def full_model_predictions(link, images: list[np.ndarray]) -> np.ndarray:
    link.schedule = MergeSchedule(ratios=[0.0] * link.depth)
    preds = []
    for i in range(0, len(images), 250):
        frame = link.edge(link.preprocess(images[i:i + 250]))
        preds.append(link.server(frame.tokens, frame.sizes).argmax(-1).numpy())
    return np.concatenate(preds)


def image_variants(link, images, frame_size) -> dict:
    """Per codec, quality and frame size: bits per frame, full-model prediction on the decoded frame."""
    out = {}
    native = f"{images[0].shape[1]}x{images[0].shape[0]}"
    for codec, q in tqdm(VARIANTS, desc="image codecs", leave=False):
        for size in (native, frame_size):
            w, h = map(int, size.split("x"))
            frames = images if size == native else [camera_frame(im, w, h) for im in images]
            files = [frame_codecs.encode(f, codec, q) for f in frames]
            decoded = [frame_codecs.decode(b, grey=f.ndim == 2) for b, f in zip(files, frames)]
            out[f"{codec}{'' if q is None else f' q{q}'} {size}"] = {
                "bits": np.array([8 * len(b) for b in files]), "pred": full_model_predictions(link, decoded),
                "codec": codec, "quality": q, "size": size}
    return out


def faded_snrs(channel: str, snrs: list[float], frames: int, rng: torch.Generator) -> tuple[list, list[np.ndarray]]:
    """Per mean SNR one fading gain per frame (common to every scheme) and each frame's effective SNR (dB)."""
    gains = [fading_gains(channel, frames, rng) for _ in snrs]
    eff = [s + 10 * np.log10(np.maximum(np.abs(g.numpy()) ** 2, 1e-12)) for s, g in zip(snrs, gains)]
    return gains, eff


class Plan:
    """One scheme's frames through one code at one mean SNR: which arrive in n channel uses, for any n."""

    def __init__(self, bits: np.ndarray, pred: np.ndarray, y: np.ndarray, snr_eff: np.ndarray, code: str,
                 adapt: bool = True):
        # the transmitter adapts to the previous frame's SNR; adapt=False sends every frame at the most
        # robust MCS, what a team does with a payload of a few bits
        known = np.concatenate([snr_eff[:1], snr_eff[:-1]]) if adapt else np.full(len(snr_eff), -np.inf)
        ways = [ways_to_arrive(int(b), float(k), float(s), code) for b, k, s in zip(bits, known, snr_eff)]
        self.uses = np.array([[u for u, _ in w] for w in ways])
        self.snr_needed = np.array([[t for _, t in w] for w in ways])
        self.snr_eff, self.pred, self.y = snr_eff, pred, y

    def arrived(self, n: float) -> np.ndarray:
        """Which frames arrive when each gets ``n`` channel uses."""
        return ((self.uses <= n) & (self.snr_eff[:, None] >= self.snr_needed)).any(axis=1)

    def accuracy(self, n: float, hold_last: bool = False) -> float:
        return float(np.mean(scored(self.pred, self.y, self.arrived(n), hold_last)))


def best(plans: list[Plan], n: float) -> tuple[float, float, int]:
    """Best variant in hindsight at ``n`` channel uses: its accuracy, its accuracy holding the last label, index."""
    accs = [p.accuracy(n) for p in plans]
    i = int(np.argmax(accs))
    return accs[i], plans[i].accuracy(n, hold_last=True), i


def semantic_policy(front, sem: dict, snr: float, k: int, n: float, mode: str) -> tuple[float, float]:
    """Accuracy and mean channel uses of a policy at budget ``n`` streaming the frames at mean SNR ``snr``."""
    if mode == "cap":
        policy = make_policy(front, "max_accuracy_under_cap", channel_uses_cap=n - PILOTS)
    else:
        policy = make_policy(front, "lyapunov", budget=max(n - PILOTS, 1e-3), v=20.0)
    frames = sem[next(iter(sem))]["correct"].shape[1]
    correct, uses = [], []
    for t in range(frames):
        name = policy.choose(snr, t * 0.1)
        correct.append(sem[name]["correct"][k, t])
        uses.append(sem[name]["uses"])
        policy.charge(sem[name]["uses"] - PILOTS)
    return float(np.mean(correct)), float(np.mean(uses))


def needed_uses(accuracy_at_budget, target: float) -> int | None:
    """Smallest channel uses on the budget grid where the scheme reaches ``target`` (None: never).

    Accuracy never falls as the budget grows, so the grid is bisected.
    """
    lo, hi = 0, len(BUDGET_GRID) - 1
    if accuracy_at_budget(float(BUDGET_GRID[hi])) < target:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if accuracy_at_budget(float(BUDGET_GRID[mid])) >= target:
            hi = mid
        else:
            lo = mid + 1
    return int(BUDGET_GRID[lo])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="default")
    ap.add_argument("--images", default=None, help="labelled images (default: the bundle's evaluation set): an "
                    "ImageFolder, 'embedded', 'scenes' or 'fashion-mnist'; those the front search used are skipped")
    ap.add_argument("--n-images", type=int, default=1000, help="held-out images per cell")
    ap.add_argument("--channels", default="awgn,rayleigh", help=f"of {', '.join(CHANNELS)}")
    ap.add_argument("--snrs", default="-10,-5,0,5,10,15,20,25,30", help="mean SNRs (dB)")
    ap.add_argument("--budgets", default="60,130,260", help="channel uses per frame to compare at")
    ap.add_argument("--target", type=float, default=0.85, help="accuracy for the channel-uses-needed table")
    ap.add_argument("--frame-size", default="640x480", help="camera frame size of the image baseline")
    ap.add_argument("--robot-bundle", help="a robot-size model's bundle: adds 'label (robot-size model)'")
    ap.add_argument("--stream-frames", type=int, default=None, help="shelf-stream frames for the video "
                    "comparison (benchmarks/video_baseline.py; default 600 for a scene bundle, else 0: skipped)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS / "digital_baseline.json")
    args = ap.parse_args()
    started = time.time()
    torch.set_num_threads(args.threads)
    channels, snrs, budgets = parse_list(args.channels, str), parse_list(args.snrs), parse_list(args.budgets)
    for c in channels:
        if c not in CHANNELS:
            raise SystemExit(f"unknown channel {c!r}; use one of {CHANNELS}")
    bundle = load_bundle(args.bundle)
    link = bundle.link(bundle.rates[0], all_rates=True)
    front = bundle.front(bundle.rates[0], link.depth)
    args.images = args.images or bundle.eval_images
    data = image_set(args.images, None, link.loaded.class_names, preprocess=link.loaded.config)
    searched = max(bundle.rate_front(r).raw.get("study", {}).get("search_images", 0) for r in bundle.front_rates)
    pool = np.arange(searched, len(data.labels))
    if not len(pool):
        raise SystemExit(f"{args.images}: no images beyond the {searched} the front search used")
    order = np.random.default_rng(args.seed).permutation(pool)[:args.n_images]
    images = [data.images[i] for i in order]
    y = np.asarray(data.labels[order])
    x = link.preprocess(images)
    classes = len(link.loaded.class_names)

    full_pred = full_model_predictions(link, images)
    variants = image_variants(link, images, args.frame_size)
    names = list(variants)
    label = {"bits": np.full(len(y), label_bits(classes)), "pred": full_pred}
    kinds = {"label": full_pred}
    if args.robot_bundle:
        robot = load_bundle(args.robot_bundle).link(None)
        with torch.no_grad():
            kinds["label_robot"] = np.concatenate([robot.model(x[i:i + 250]).argmax(-1).numpy()
                                                   for i in range(0, len(y), 250)])
    rng = torch.Generator().manual_seed(args.seed + 1)
    report_channels = {}
    for channel in channels:
        gains, eff = faded_snrs(channel, snrs, len(y), rng)
        sem = semantic_outcomes(link, front, x, torch.as_tensor(y), gains, snrs, channel, args.seed)
        rows, needed = [], []
        for k, snr in enumerate(tqdm(snrs, desc=f"schemes on {channel}", leave=False)):
            image = {code: [Plan(v["bits"], v["pred"], y, eff[k], code) for v in variants.values()]
                     for code in CODES}
            labels = {(kind, code): Plan(label["bits"], pred, y, eff[k], code)
                      for kind, pred in kinds.items() for code in CODES}
            for n in budgets:
                row = {"snr_db": snr, "channel_uses": n}
                row["semantic_cap"], row["semantic_cap_uses"] = semantic_policy(front, sem, snr, k, n, "cap")
                row["semantic_lyapunov"], row["semantic_lyapunov_uses"] = semantic_policy(front, sem, snr, k, n, "lyap")
                for code in CODES:
                    row[f"image_{code}"], row[f"image_{code}_hold"], i = best(image[code], n)
                    row[f"image_{code}_best"] = names[i]
                    for kind in kinds:
                        row[f"{kind}_{code}"] = labels[kind, code].accuracy(n)
                        row[f"{kind}_{code}_hold"] = labels[kind, code].accuracy(n, hold_last=True)
                rows.append(row)
            reach = {"snr_db": snr, "semantic": min((c["uses"] for c in sem.values()
                                                     if c["correct"][k].mean() >= args.target), default=None)}
            for code in CODES:
                reach[f"image_{code}"] = needed_uses(lambda n: best(image[code], n)[0], args.target)
                for kind in kinds:
                    reach[f"{kind}_{code}"] = needed_uses(labels[kind, code].accuracy, args.target)
            needed.append(reach)
        report_channels[channel] = {"by_snr_and_budget": rows, f"channel_uses_for_{args.target}": needed}

    from wire_and_compute import (edge_compute, image_message_bytes, quantization_cost, semantic_message_bytes,
                                  video_message_bytes)

    report = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "bundle": bundle.name, "images": f"{len(y)} held-out images of {args.images} ({searched}..)",
        "full_model_accuracy": float(np.mean(full_pred == y)),
        **({"robot_model_accuracy": float(np.mean(kinds["label_robot"] == y)),
            "robot_bundle": args.robot_bundle} if args.robot_bundle else {}),
        "pilots": PILOTS, "snrs_db": snrs, "budgets": budgets, "target": args.target,
        "command": "python benchmarks/digital_baseline.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
        "image_variants": {name: {"mean_bytes": float(v["bits"].mean() / 8), "accuracy": float(np.mean(v["pred"] == y))}
                           for name, v in variants.items()},
        "label_bits": label_bits(classes),
        "channels": report_channels,
        "bytes_on_wire": {**semantic_message_bytes(link, front, x[:50]),
                          **image_message_bytes(images[:50], args.frame_size), **video_message_bytes()},
        "quantized_symbols": quantization_cost(link, front, x, y, snrs, args.seed),
        "edge_compute": edge_compute(link, front, images, args.frame_size),
    }
    stream_frames = args.stream_frames if args.stream_frames is not None else (
        600 if bundle.eval_images == "scenes" else 0)
    if stream_frames:
        from video_baseline import compare, table

        report["stream"] = compare(bundle, 0.5, stream_frames, channels, snrs, budgets, args.seed)
    report["seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    plot(report, args.out.with_suffix(".png"))
    print_tables(report)
    if "stream" in report:
        print("\n" + table(report["stream"]))


if __name__ == "__main__":
    main()
