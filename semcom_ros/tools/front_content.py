"""What a front file holds, made from a finished study and its held-out records.

Configurations and baselines as measured, the operating points S1/S2/S3 by
their rules, hypervolumes on the search and held-out images, and how the
timing was taken (so a reader of the file knows on what machine).
"""
from __future__ import annotations

import os
import platform

import numpy as np
import torch

from ..core.fronts.front_file import FORMAT_VERSION
from ..core.fronts.pareto import hypervolume_2d, operating_points


def front_data(st, bundle_name: str, done: list, records: dict[str, dict], baselines: dict) -> dict:
    """The front file's content: configurations, baselines, operating points, hypervolumes, timing."""
    args, keys = st.args, st.keys
    front = [r for n, r in records.items() if n.startswith("p")]
    base = [records[n] for n in baselines]
    none_gmacs = records["none"]["gmacs"]
    s1_acc = max(c["accuracy"] for c in front)
    floor = args.s2_floor if args.s2_floor is not None else round(s1_acc - 0.02, 4)
    cap = args.s3_cap if args.s3_cap is not None else round(0.5 * none_gmacs, 5)
    s3_floor = args.s3_floor if args.s3_floor is not None else round(s1_acc - 0.10, 4)
    s2_cost = "latency_ms" if "latency_ms" in keys else "gmacs"
    ops = {k: (front[i]["name"] if i is not None else None)
           for k, i in operating_points(front, floor, cap, s3_floor, s2_cost=s2_cost).items()}
    ref_g = round(none_gmacs * 1.05, 5)

    def hv(points, key_acc="accuracy", key_g="gmacs"):
        return round(hypervolume_2d([{"accuracy": p[key_acc], "gmacs": p[key_g]} for p in points], 0.0, ref_g), 6)

    uniform = [b for b in base if b["name"].startswith("uniform") or b["name"] == "none"]
    random_b = [b for b in base if b["name"].startswith("random")]
    timing = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
              "latency_ms": "edge (ViT + JSCC encoder) per single frame, eager, median of interleaved rounds",
              "img_per_s": "edge + server per single frame",
              "latency_spread_median": round(float(np.median([r["latency_spread"] for r in records.values()])), 3)}
    if "latency_ms" in keys:
        refs = [t.user_attrs.get("reference_ms", 0) for t in done]
        timing.update(trial_latency_spread_median=round(float(np.median(
            [t.user_attrs.get("latency_spread", 0.0) for t in done])), 3),
            trial_reference_ms_range=[round(min(refs), 3), round(max(refs), 3)])
    return {
        "format": FORMAT_VERSION, "model": bundle_name, "rate": args.rate, "depth": st.depth,
        "split": st.link.split, "tokens": st.link.shape.num_patches,
        "space": args.space, "objectives": st.objectives,
        "study": {"trials": len(done), "sampler": "optuna GPSampler (log-EHVI)", "seed": args.seed,
                  "search_images": len(st.ys), "heldout_images": len(st.yf),
                  "constraints": {"accuracy_floor": args.accuracy_floor, "gmacs_cap": args.gmacs_cap}},
        "snr_grid": st.snr_grid, "channel": "awgn",
        "operating_point_rules": {"S2_accuracy_floor": floor, "S2_cost": s2_cost, "S3_gmacs_cap": cap,
                                  "S3_accuracy_floor": s3_floor},
        "timing": timing,
        "operating_points": ops,
        "hypervolume": {"reference": {"accuracy": 0.0, "gmacs": ref_g},
                        "front_search": hv(front, "search_accuracy", "search_gmacs"),
                        "uniform_search": hv(uniform, "search_accuracy", "search_gmacs"),
                        "random_search": hv(random_b, "search_accuracy", "search_gmacs"),
                        "front_heldout": hv(front), "uniform_heldout": hv(uniform), "random_heldout": hv(random_b)},
        "configurations": front, "baselines": base,
    }
