"""What the robot computes: the split link's edge part per split point, against whole robot-size models (not a test).

    python benchmarks/robot_compute.py [--splits 1,2,3,4] [--ratios 0,0.1,0.2] [--rate 4]

For the robot-view scene architecture (``semcom-train-scenes --arch scene``;
MACs and times do not depend on the weights, so untrained models serve), per
split point and uniform merge ratio: the edge part's MACs (patch embedding,
blocks 1..split with merging, the JSCC encoder at ``--rate``) and its measured
time per frame (eager, batch 1, ``--threads`` torch threads, interleaved
rounds so machine noise hits every row alike); then the whole forward pass of
each candidate robot-size model (``--robot-archs``, d/depth/heads) in MACs and
time. A robot-size model fits a split where both its MACs and its time are at
most the edge part's: that is the comparison at equal robot compute (METHOD §9).
Writes benchmarks/results/robot_compute.json.
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

from semcom_ros.core.data.scene_sets import model_view, scene_generator
from semcom_ros.core.data.preprocess import make_preprocess
from semcom_ros.core.link.jscc import JSCC
from semcom_ros.core.link.semantic_link import SemanticLink
from semcom_ros.core.model.macs import VitShape, edge_macs, macs, scheduled_token_counts
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.model.models import LoadedModel, build_model
from semcom_ros.tools.train_scenes import ARCHITECTURE, ARCHS, INPUT_HW, PREPROCESS


def timed(fn, x, rounds: int, frames: int) -> list[float]:
    """ms per frame of ``fn`` on single frames, one value per round."""
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for f in range(frames):
            fn(x[f % len(x):f % len(x) + 1])
        out.append(1e3 * (time.perf_counter() - t) / frames)
    return out


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--splits", default="1,2,3,4")
    ap.add_argument("--ratios", default="0,0.1,0.2", help="uniform merge ratios per edge block")
    ap.add_argument("--rate", type=int, default=4, help="JSCC complex symbols per token")
    ap.add_argument("--robot-archs", default="64/4/2,64/3/2,96/3/3,48/6/2,32/8/2", help="d/depth/heads, comma list")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "robot_compute.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = scene_generator("eval")
    prep = make_preprocess(PREPROCESS)
    x = torch.stack([prep(model_view(gen.scene(i).image, INPUT_HW)) for i in range(8)])

    model = build_model(ARCHITECTURE, ARCHS["scene"])
    jscc = JSCC(model.embed_dim, args.rate)
    link = SemanticLink(LoadedModel("scene", model, prep, ()), jscc)
    shape = VitShape.of(link.model)
    ratios = [float(r) for r in args.ratios.split(",")]
    candidates = []
    for s in (int(v) for v in args.splits.split(",")):
        for r in ratios:
            link.split = s
            link.schedule = MergeSchedule(ratios=[r] * s + [0.0] * (shape.depth - s))
            counts = scheduled_token_counts(shape, link.schedule.ratios)
            candidates.append(({"split": s, "ratio": r, "tokens_sent": counts[s - 1] + shape.prefix,
                                "edge_mmacs": round(edge_macs(shape, counts, s, 2 * shape.dim, args.rate) / 1e6, 2)},
                               lambda xb, s=s, sched=link.schedule: (setattr(link, "split", s),
                                                                     setattr(link, "schedule", sched),
                                                                     link.edge(xb))))
    robots = []
    for spec in args.robot_archs.split(","):
        d, depth, heads = (int(v) for v in spec.split("/"))
        m = build_model(ARCHITECTURE, dict(ARCHS["robot"], embed_dim=d, depth=depth, num_heads=heads)).eval()
        robots.append(({"robot_model": f"d{d}/depth{depth}/heads{heads}",
                        "whole_mmacs": round(macs(VitShape.of(m)) / 1e6, 2)}, m))
    fns = [f for _, f in candidates] + [m for _, m in robots]
    for f in fns:                                   # warm-up
        timed(f, x, 1, 3)
    per = [[] for _ in fns]
    for _ in range(args.rounds):                    # interleaved: every row sees the same noise
        for k, f in enumerate(fns):
            per[k] += timed(f, x, 1, args.frames)
    rows = [dict(c, ms=round(float(np.median(per[k])), 3)) for k, (c, _) in enumerate(candidates)]
    rows_robot = [dict(c, ms=round(float(np.median(per[len(candidates) + k])), 3)) for k, (c, _) in enumerate(robots)]
    for row in rows:
        row["robot_models_that_fit"] = [r["robot_model"] for r in rows_robot
                                        if r["whole_mmacs"] <= row["edge_mmacs"] and r["ms"] <= row["ms"]]
    result = {"run": {"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {args.threads} torch threads, torch {torch.__version__}",
                      "command": "python benchmarks/robot_compute.py " + " ".join(sys.argv[1:])},
              "architecture": {"input": f"{INPUT_HW[1]}x{INPUT_HW[0]} RGB", **ARCHS["scene"]}, "rate": args.rate,
              "edge": rows, "robot_models": rows_robot}
    print("| split | merge r | tokens sent | edge MMACs | edge ms | robot-size models that fit |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['split']} | {r['ratio']} | {r['tokens_sent']} | {r['edge_mmacs']} | {r['ms']} | "
              f"{', '.join(r['robot_models_that_fit']) or '-'} |")
    print("\n| robot-size model | MMACs | ms |\n|---|---|---|")
    for r in rows_robot:
        print(f"| {r['robot_model']} | {r['whole_mmacs']} | {r['ms']} |")
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
