"""A panning robot's stream at equal channel uses per frame: video codecs against the split (METHOD §8, §9).

    python benchmarks/video_baseline.py --bundle B [--speed 0.5] [--frames 600] [--channel awgn]
                                        [--snrs -5,0,5,10,20] [--budgets 100,300,1000,3000,10000]

The shelf stream (evaluation garments, 640x480, 10 frames/s, the camera
panning at ``--speed`` m/s) goes through one channel; per mean SNR every
scheme sees the same fading gain per frame and gets ``n`` channel uses per
frame. Only labelled frames (an item in the central third) are scored; a frame
that does not arrive is wrong ("hold": it repeats the last label that arrived).

- **semantic**: the bundle's split link; the configurations of its front, or
  without one uniform merge ratios 0/0.1/0.2/0.3 at each of its rates; per cell
  the best configuration within ``n`` (in hindsight, as for the others);
- **h264 / h265**: the stream as a live encoder codes it (zero latency, no
  B-frames, GOP 1/10/30, CRF 23..45; H.265 only GOP 10, it codes at ~6 frames/s
  here), each frame's packet through adaptive modulation and coding (LTE/NR CQI
  table, 1500-byte packets, MCS from the previous frame's SNR); the stream is
  decoded as received (a lost packet is lost; later frames until the next I-frame
  show FFmpeg's concealment) and the whole model classifies what the decoder
  outputs on the server;
- **jpeg**: every frame alone (quality 10..95; 640x480 or shrunk to the model's input);
- **label**: the whole model on the robot, its class index through the same code.

Per cell the best codec setting in hindsight is reported (generous to the
baselines), and per SNR the crossover: the fewest channel uses per frame at
which H.264 with GOP 10 is at least as accurate as the semantic link.
Writes benchmarks/results/video_baseline.json.
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
from semcom_ros.core.bundle.bundle import BundleError, load_bundle
from semcom_ros.core.data import frame_codecs
from semcom_ros.core.data.scene_sets import model_view, shelf_stream
from semcom_ros.core.data.video_codec import VideoSettings, decode_stream, encode_stream
from semcom_ros.core.link.channels import Channel
from semcom_ros.core.link.digital_link import label_bits
from semcom_ros.core.model.merging_vit import MergeSchedule

RESULTS = Path(__file__).parent / "results"
CODE = "practical"
VIDEO = ([VideoSettings("h264", gop=g, crf=c) for g in (1, 10, 30) for c in (23, 28, 35, 45)]
         + [VideoSettings("h265", gop=10, crf=c) for c in (28, 35)])
JPEG = [(q, size) for q in (10, 30, 50, 80, 95) for size in ("640x480", "model input")]
CROSSOVER_GRID = np.unique(np.round(np.geomspace(30, 300_000, 41)).astype(int))


@torch.no_grad()
def classify(link, images: list[np.ndarray]) -> np.ndarray:
    """The whole model's class for each picture (as the server's classifier node runs it)."""
    model = link.model
    saved, model.merge_schedule = model.merge_schedule, MergeSchedule(ratios=[0.0] * link.depth)
    try:
        return np.concatenate([model(link.preprocess(images[i:i + 100])).argmax(-1).numpy()
                               for i in range(0, len(images), 100)])
    finally:
        model.merge_schedule = saved


def configurations(bundle, link) -> list[tuple[str, int, MergeSchedule]]:
    try:
        front = bundle.front(link.rate, link.depth)
        return [(c.name, c.rate, MergeSchedule.of(c)) for c in front.configurations]
    except BundleError:
        return [(f"r{r:g} m{m}", m, MergeSchedule.uniform(r, link.depth))
                for m in link.rates for r in (0.0, 0.1, 0.2, 0.3)]


@torch.no_grad()
def semantic(link, confs, x, y, gains, snrs, channel: str, seed: int) -> list[dict]:
    """Per configuration: correct (SNR, frame) through the channel and channel uses per frame."""
    out, tx = [], Channel(channel, csi="pilot", n_pilots=PILOTS)
    for name, rate, schedule in tqdm(confs, desc="semantic", leave=False):
        link.rate, link.schedule = rate, schedule
        frame = link.edge(x)
        gen = torch.Generator().manual_seed(seed)
        correct = np.zeros((len(snrs), len(y)), bool)
        for k, snr in enumerate(snrs):
            rx = tx.transmit(frame.symbols, snr, gen, h=gains[k])
            correct[k] = link.decode(rx.symbols, rx.decoder_snr_db, frame.sizes).argmax(-1).numpy() == y
        out.append({"name": name, "correct": correct, "uses": frame.channel_uses + PILOTS})
    return out


class Received:
    """A video setting's stream as the server's decoder outputs it for a given set of arrived packets."""

    def __init__(self, link, settings: VideoSettings, packets):
        self.link, self.settings, self.packets = link, settings, packets
        self.memo: dict[bytes, np.ndarray] = {}

    def predictions(self, arrived: np.ndarray) -> np.ndarray:
        """The class of each frame the decoder outputs (-1: it outputs nothing for that frame)."""
        key = np.packbits(arrived).tobytes()
        if key not in self.memo:
            shown = decode_stream(self.packets, list(arrived), self.settings.codec)
            pred = np.full(len(shown), -1)
            index = [i for i, f in enumerate(shown) if f is not None]
            if index:
                pred[index] = classify(self.link, [shown[i] for i in index])
            self.memo[key] = pred
        return self.memo[key]


def score(pred: np.ndarray, y: np.ndarray, shown: np.ndarray, scored: np.ndarray) -> tuple[float, float]:
    """Accuracy over scored frames, and the same holding the last label shown (a lost frame keeps it)."""
    held, hold = None, []
    for p, ok in zip(pred, shown):
        held = p if ok else held
        hold.append(held)
    right = (pred == y) & shown
    right_hold = np.array([h is not None and h == t for h, t in zip(hold, y)])
    return float(right[scored].mean()), float(right_hold[scored].mean())


def score_setting(v: dict, arrived: np.ndarray, y: np.ndarray, scored: np.ndarray) -> tuple[float, float]:
    """A setting's accuracy (and holding the last label) given which frames arrived."""
    if "received" in v:                      # a video stream: what the decoder outputs from what arrived
        pred = v["received"].predictions(arrived)
        return score(pred, y, pred >= 0, scored)
    return score(v["pred"], y, arrived, scored)


def cell(v: dict, y: np.ndarray, eff: np.ndarray, n: float, scored: np.ndarray) -> tuple[float, float]:
    """A setting's accuracy (and holding the last label) when each frame gets ``n`` channel uses."""
    return score_setting(v, Plan(v["bits"], v.get("pred"), y, eff, CODE).arrived(n), y, scored)


def stream_schemes(link, frames, views, y) -> dict[str, list[dict]]:
    """Every baseline setting's bits per frame and what the server classifies from it."""
    schemes: dict[str, list[dict]] = {"label": [{"name": "label", "bits": np.full(len(y), label_bits(10)),
                                                 "pred": classify(link, list(frames))}]}
    schemes["jpeg"] = []
    for q, size in tqdm(JPEG, desc="jpeg", leave=False):
        files = [frame_codecs.encode(f, "jpeg", q) for f in (frames if size == "640x480" else views)]
        schemes["jpeg"].append({"name": f"jpeg q{q} {size}", "bits": np.array([8 * len(b) for b in files]),
                                "pred": classify(link, [frame_codecs.decode(b, grey=False) for b in files])})
    for s in tqdm(VIDEO, desc="video", leave=False):
        packets = encode_stream(frames, s)
        schemes.setdefault(s.codec, []).append({
            "name": s.label, "bits": np.array([8 * len(p.data) for p in packets]),
            "received": Received(link, s, packets), "gop": s.gop})
    return schemes


def on_channel(link, confs, schemes, x, y, scored, channel: str, snrs, budgets, seed: int) -> dict:
    """Accuracy of every scheme per (mean SNR, channel uses per frame), and the H.264 crossover per SNR."""
    gains, eff = faded_snrs(channel, snrs, len(y), torch.Generator().manual_seed(seed + 1))
    plans = {}                     # (setting, SNR index): which frames arrive, for any channel uses

    def cell_at(v: dict, k: int, n: float) -> tuple[float, float]:
        key = (v["name"], k)
        if key not in plans:
            plans[key] = Plan(v["bits"], v.get("pred"), y, eff[k], CODE)
        return score_setting(v, plans[key].arrived(n), y, scored)

    sem = semantic(link, confs, x, y, gains, snrs, channel, seed)

    def semantic_at(k: int, n: float) -> tuple[float, str | None]:
        fits = [c for c in sem if c["uses"] <= n]
        best = max(fits, key=lambda c: c["correct"][k][scored].mean(), default=None)
        return (0.0, None) if best is None else (float(best["correct"][k][scored].mean()), best["name"])

    rows = []
    for k, snr in enumerate(tqdm(snrs, desc=f"cells on {channel}", leave=False)):
        for n in budgets:
            row = {"snr_db": snr, "channel_uses": n}
            row["semantic"], row["semantic_best"] = semantic_at(k, n)
            for kind, variants in schemes.items():
                cells = [(*cell_at(v, k, n), v["name"]) for v in variants]
                acc, hold, name = max(cells)
                row[kind], row[f"{kind}_hold"], row[f"{kind}_best"] = acc, max(c[1] for c in cells), name
            rows.append(row)
    crossover = []
    gop10 = [v for v in schemes["h264"] if v["gop"] == 10]
    for k, snr in enumerate(snrs):
        found = next((int(n) for n in CROSSOVER_GRID
                      if 0 < max(cell_at(v, k, n)[0] for v in gop10) >= semantic_at(k, n)[0]), None)
        crossover.append({"snr_db": snr, "h264_gop10_overtakes_at_channel_uses": found})
    return {"rows": rows, "crossover": crossover}


def compare(bundle, speed: float, frames_n: int, channels: list[str], snrs, budgets, seed: int) -> dict:
    """The whole comparison on the shelf stream, as a report section."""
    link = bundle.link(bundle.rates[0], all_rates=True)
    input_hw = tuple(link.loaded.config["input_size"][1:])
    stream = shelf_stream(speed)
    frames, labels = zip(*(stream.frame(t) for t in tqdm(range(frames_n), desc="stream", leave=False)))
    scored = np.array([lab is not None for lab in labels])
    y = np.array([-1 if lab is None else lab for lab in labels])
    views = [model_view(f, input_hw) for f in frames]
    schemes = stream_schemes(link, frames, views, y)
    confs, x = configurations(bundle, link), link.preprocess(views)
    return {"bundle": bundle.name, "speed_m_s": speed, "frames": len(y), "scored_frames": int(scored.sum()),
            "code": CODE, "pilots": PILOTS, "kinds": list(schemes),
            "mean_bytes": {v["name"]: float(v["bits"].mean() / 8) for vs in schemes.values() for v in vs},
            "whole_model_accuracy_on_frames": float((schemes["label"][0]["pred"] == y)[scored].mean()),
            "channels": {c: on_channel(link, confs, schemes, x, y, scored, c, snrs, budgets, seed) for c in channels}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="default")
    ap.add_argument("--speed", type=float, default=0.5, help="m/s along the shelf")
    ap.add_argument("--frames", type=int, default=600, help="stream frames (10 per second)")
    ap.add_argument("--channels", default="awgn,rayleigh")
    ap.add_argument("--snrs", default="-5,0,5,10,20")
    ap.add_argument("--budgets", default="100,300,1000,3000,10000", help="channel uses per frame")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "video_baseline.json")
    args = ap.parse_args()
    started = time.time()
    torch.set_num_threads(args.threads)
    report = compare(load_bundle(args.bundle), args.speed, args.frames, parse_list(args.channels, str),
                     parse_list(args.snrs), parse_list(args.budgets), args.seed)
    report["run"] = {"date": datetime.date.today().isoformat(),
                     "machine": f"{platform.machine()}, {args.threads} torch threads, torch {torch.__version__}",
                     "command": "python benchmarks/video_baseline.py " + " ".join(sys.argv[1:]),
                     "seconds": round(time.time() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))


def table(report: dict) -> str:
    cols = ["semantic"] + [k for k in ("h264", "h265", "jpeg", "label") if k in report["kinds"]]
    lines = []
    for channel, res in report["channels"].items():
        lines += [f"{channel}, shelf stream at {report['speed_m_s']} m/s, {report['scored_frames']} scored frames: "
                  f"accuracy (%) at equal channel uses per frame (best setting in hindsight; a lost frame is wrong)",
                  "", "| SNR dB | uses | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
        lines += [f"| {r['snr_db']:g} | {r['channel_uses']:g} | " + " | ".join(f"{100 * r[c]:.1f}" for c in cols)
                  + " |" for r in res["rows"]]
        lines += ["", "| SNR dB | channel uses per frame from which H.264 (GOP 10) is at least as accurate |",
                  "|---|---|"]
        lines += [f"| {c['snr_db']:g} | {c['h264_gop10_overtakes_at_channel_uses'] or 'never (up to 300 000)'} |"
                  for c in res["crossover"]] + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
