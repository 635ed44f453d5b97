"""The fleet benchmark's budget part: one link budget shared by robots on different links (see fleet.py)."""
from __future__ import annotations

import json

import numpy as np
from moving_links import Trace, frame_order, held_out, outcomes

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.policies.fleet import FLEET_MODES, make_fleet_policy


def shared_budget(args) -> list[dict]:
    bundle = load_bundle(args.bundle)
    link = bundle.link(4, all_rates=True)
    front = bundle.front(4, link.depth)
    snrs = [float(s) for s in args.snrs.split(",")]
    robots = [f"r{i + 1}" for i in range(len(snrs))]
    weights = [float(w) for w in args.weights.split(",")] if args.weights else [1.0] * len(robots)
    n = int(args.budget_seconds * args.hz)
    speeds = [float(v) for v in args.speeds.split(",")] if args.speeds else [0.0] * len(robots)
    if len(speeds) != len(robots):
        raise SystemExit(f"--speeds: one per robot ({len(robots)}), got {args.speeds!r}")
    x, y, _ = held_out(bundle, link)
    traces = {r: Trace.draw(frame_order(len(y), n, args.seed + j), args.channel, np.full(n, s, np.float32), args.hz,
                            args.seed + 100 + j, speed_mps=speeds[j], carrier_ghz=args.carrier)
              for j, (r, s) in enumerate(zip(robots, snrs))}
    tables = outcomes(link, front, x, y, traces, args.seed)
    budget = args.budget_per_frame * args.hz * len(robots)
    configs = (front.on_channel(args.channel) if args.channel in front.channels else front).configurations
    rows = []
    for mode in FLEET_MODES:
        policy = make_fleet_policy(mode, robots, configs, budget=budget, weights=weights, v=args.v)
        correct = {r: [] for r in robots}
        used = {r: [] for r in robots}
        step = 1.0 / (args.hz * len(robots))
        for k in range(n):
            for j, (r, s) in enumerate(zip(robots, snrs)):
                t = (k * len(robots) + j) * step
                name = policy.choose(r, s, t)
                correct[r].append(tables[r][name]["correct"][k])
                used[r].append(tables[r][name]["uses"][k])
                policy.charge(r, used[r][-1], t)
        seconds = n / args.hz
        acc = {r: float(np.mean(correct[r])) for r in robots}
        rows.append({"policy": mode,
                     "weighted_accuracy": round(sum(w * acc[r] for w, r in zip(weights, robots)) / sum(weights), 4),
                     "channel_uses_per_s": round(float(sum(map(sum, used.values()))) / seconds, 1), "budget": budget,
                     "robots": {r: {"snr_db": s, "speed_mps": v, "weight": w, "accuracy": round(acc[r], 4),
                                    "mean_channel_uses": round(float(np.mean(used[r])), 1)}
                                for r, s, v, w in zip(robots, snrs, speeds, weights)}})
        print(json.dumps(rows[-1]), flush=True)
    return rows
