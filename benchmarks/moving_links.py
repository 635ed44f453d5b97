"""What a policy should listen to on a moving robot's link: the mean SNR, the last pilot estimate, or a filter.

    python benchmarks/moving_links.py [--minutes 3] [--seed 0]

A robot drives back and forth between 3 and 30 m from its access point (the
channel node's ``trajectory`` profile: log-distance path loss, exponent 3, 6 dB
shadowing over 10 m) at 0.1, 0.5, 2 and 10 m/s on 2.4 and 5.9 GHz, 10 frames/s, with
time-correlated Rayleigh fading on top (Doppler f_D = v·f_c/c, pilot CSI).
Common random numbers: every configuration of the built-in joint front is run
on every frame of every cell once (held-out images, same fades), then the joint
Lyapunov policy at the budget streams each cell three times, choosing from:

- ``link_snr``: the mean SNR (what the channel node publishes), with the
  accuracy table averaged over the fading (the front's correlated_rayleigh table);
- ``estimated``: the previous frame's pilot estimate of its effective SNR (the
  server's ``estimated_snr``), with the AWGN table: it bets the fade persists;
- ``filtered``: the estimates averaged in linear power over about a second
  (``core.snr_filter``, the policy node's ``snr_average_s: 1.0``), which recovers
  the mean SNR without a map, with the fading table.

Also here: ``outcomes`` and ``Trace``, which ``adaptive_rate.py`` and ``fleet.py``
use to run configurations on a channel. Writes benchmarks/results/moving_links.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from semcom_ros.core.link.channel_models import LinkConditions, make_channel
from semcom_ros.core.fronts.channel_tables import PILOT_RECORDS
from semcom_ros.core.link.channels import Channel
from semcom_ros.core.link.edge_once import edge_pool, through_channel
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.link.snr_filter import SnrFilter
from semcom_ros.core.link.snr_profiles import SnrProfile

RESULTS = Path(__file__).parent / "results"
SOURCES = ("link_snr", "estimated", "filtered")


@dataclass
class Trace:
    """One robot's link over time: which pool image each frame shows, its mean SNR and gain, on a channel model."""

    frames: np.ndarray
    mean_snr: np.ndarray
    h: np.ndarray
    channel: str = "awgn"
    conditions: LinkConditions | None = None

    @classmethod
    def draw(cls, frames: np.ndarray, channel: str, mean_snr: np.ndarray, hz: float, seed: int,
             **conditions) -> "Trace":
        model = make_channel(channel, LinkConditions(frame_interval_s=1.0 / hz, **conditions))
        return cls(np.asarray(frames), np.asarray(mean_snr, np.float32),
                   model.gains(len(mean_snr), np.random.default_rng(seed)), channel, model.conditions)


def trajectory_snr(speed: float, seconds: float, hz: float, seed: int) -> np.ndarray:
    profile = SnrProfile("trajectory", speed_mps=speed, seed=seed)
    return np.array([profile.at(t / hz) for t in range(int(seconds * hz))], np.float32)


@torch.no_grad()
def outcomes(link, front, x, y, traces: dict, seed: int = 0, batch: int = 250) -> dict:
    """{trace key: {configuration: correct, uses, gmacs, snr_est per frame}}.

    ``x``, ``y``: a pool of images; each trace's frames index it. The edge runs once per
    configuration over the pool; every trace then sends its frames through its own channel.
    """
    out = {key: {} for key in traces}
    y = torch.as_tensor(y)
    for conf in tqdm(front.configurations, desc="configurations"):
        link.rate, link.schedule = conf.rate, MergeSchedule.of(conf)
        pool = edge_pool(link, x, batch)
        for k, (key, tr) in enumerate(traces.items()):
            channel = Channel(tr.channel, csi="pilot", n_pilots=PILOT_RECORDS * conf.rate,
                              conditions=tr.conditions or LinkConditions())
            gen = torch.Generator().manual_seed(seed + k)        # each trace its own noise, the same for every c
            correct, est = [], []
            for i in range(0, len(tr.frames), batch):
                idx = torch.as_tensor(tr.frames[i:i + batch])
                pred, snr_est = through_channel(link, pool, channel, torch.as_tensor(tr.mean_snr[i:i + batch]), gen,
                                                frames=idx, h=torch.from_numpy(tr.h[i:i + batch]).to(torch.complex64))
                correct += (pred == y[idx]).tolist()
                est += snr_est.tolist()
            n = len(tr.frames)
            gmacs = link.gmacs(pool.tokens_per_layer + list(link.model.merge_state.tokens_per_layer))
            out[key][conf.name] = {"correct": np.array(correct), "uses": np.full(n, float(pool.channel_uses)),
                                   "gmacs": np.full(n, gmacs), "snr_est": np.array(est)}
    return out


def stream(policy, table: dict, mean_snr: np.ndarray, source: str, hz: float) -> dict:
    """The policy along one cell, deciding frame t from what it could know then."""
    names, last, average = [], None, SnrFilter(1.0)
    for t in range(len(mean_snr)):
        snr = float(mean_snr[t]) if source == "link_snr" or last is None else last
        name = policy.choose(snr, t / hz)
        names.append(name)
        policy.charge(table[name]["uses"][t])
        estimate = float(table[name]["snr_est"][t])          # the server's estimated_snr for the frame sent
        last = estimate if source == "estimated" else average.update(estimate, t / hz)
    idx = range(len(names))
    return {"accuracy": round(float(np.mean([table[n]["correct"][t] for t, n in zip(idx, names)])), 4),
            "mean_channel_uses": round(float(np.mean([table[n]["uses"][t] for t, n in zip(idx, names)])), 2),
            "switches": int(sum(a != b for a, b in zip(names, names[1:]))), "choices": names}


def held_out(bundle, link):
    """The bundle's held-out evaluation images (those no front search saw) as a pool: x, y and where they start."""
    from semcom_ros.tools.cli_common import bundle_images

    data = bundle_images(bundle)
    searched = max(bundle.rate_front(r).raw.get("study", {}).get("search_images", 0) for r in bundle.front_rates)
    return link.preprocess(list(data.images[searched:])), torch.as_tensor(data.labels[searched:]), searched


def frame_order(pool: int, n: int, seed: int) -> np.ndarray:
    """n frames from a pool of images in a seeded order (repeating once the pool is used up)."""
    return np.random.default_rng(seed).permutation(pool)[np.arange(n) % pool]


def main() -> None:
    from semcom_ros.core.bundle.bundle import load_bundle
    from semcom_ros.core.policies.robot import make_policy

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="default")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--hz", type=float, default=10.0)
    ap.add_argument("--speeds", default="0.1,0.5,2,10", help="m/s (0.1: a robot creeping, fading that persists)")
    ap.add_argument("--carriers", default="2.4,5.9")
    ap.add_argument("--budget-share", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.bundle)
    link = bundle.link(4, all_rates=True)
    front = bundle.front(4, link.depth)
    n = int(args.minutes * 60 * args.hz)
    x, y, searched = held_out(bundle, link)
    order = frame_order(len(y), n, args.seed)
    link.rate, link.schedule = 4, MergeSchedule(ratios=[0.0] * link.depth)
    budget = args.budget_share * link.edge(x[:1]).channel_uses
    cells = {}
    for v in map(float, args.speeds.split(",")):
        for f in map(float, args.carriers.split(",")):
            mean = trajectory_snr(v, n / args.hz, args.hz, args.seed)
            cells[(v, f)] = Trace.draw(order, "correlated_rayleigh", mean, args.hz, args.seed + 1, speed_mps=v,
                                       carrier_ghz=f)
    tables = outcomes(link, front, x, y, cells, args.seed)
    fading = front.on_channel("correlated_rayleigh")
    rows = []
    for (v, f), tr in cells.items():
        row = {"speed_mps": v, "carrier_ghz": f, "doppler_hz": round(tr.conditions.max_doppler_hz, 1),
               "frame_correlation": round(float(make_channel("correlated_rayleigh", tr.conditions).correlation(
                   1 / args.hz)), 3),
               "mean_snr_range_db": [round(float(tr.mean_snr.min()), 1), round(float(tr.mean_snr.max()), 1)]}
        for source in SOURCES:
            tables_front = front if source == "estimated" else fading
            policy = make_policy(tables_front, "lyapunov", budget=budget, v=20.0)
            res = stream(policy, tables[(v, f)], tr.mean_snr, source, args.hz)
            row[source] = {k: v_ for k, v_ in res.items() if k != "choices"}
        row["best"] = max(SOURCES, key=lambda s: row[s]["accuracy"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    report = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "bundle": bundle.name, "images": f"{bundle.eval_images} set {searched}.., {n} frames per cell",
              "hz": args.hz,
              "budget": round(budget, 2), "policy": "lyapunov over the joint front, V = 20",
              "channel": "correlated_rayleigh, pilot CSI", "trajectory": "3..30 m, exponent 3, 6 dB over 10 m",
              "cells": rows}
    out = RESULTS / "moving_links.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print("| speed | carrier | f_D | ρ(0.1 s) | " + " | ".join(f"{s} acc / uses" for s in SOURCES) + " |")
    for r in rows:
        print(f"| {r['speed_mps']} m/s | {r['carrier_ghz']} GHz | {r['doppler_hz']} Hz | {r['frame_correlation']} | "
              + " | ".join(f"{100 * r[s]['accuracy']:.1f} % / {r[s]['mean_channel_uses']:.0f}" for s in SOURCES)
              + " |")


if __name__ == "__main__":
    main()
