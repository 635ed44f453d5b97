r"""Should the JSCC codes be trained on a mixture of channels? Two bundles' codes, same configurations, one run.

    semcom-bundle copy default mix && \\
    semcom-train-jscc --bundle mix --images fashion-mnist --rates 2,4,8 --steps 1500 \\
        --channels awgn,rayleigh,rician,gilbert_elliott
    python benchmarks/jscc_mixture.py --candidate mix [--n-images 1000]

The joint front's S1, S2 and S3 and each rate's unmerged configuration are run
on the held-out embedded images through every channel model at each SNR of the
grid with pilot CSI (``core.channel_tables``), once with the built-in codes
(AWGN-trained) and once with the candidate's, same images, same draws. Writes
benchmarks/results/jscc_mixture.json: accuracy per code, channel and SNR, and
the mean difference per channel.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.fronts.channel_tables import accuracy_tables
from semcom_ros.tools.cli_common import bundle_images
from semcom_ros.core.model.merging_vit import MergeSchedule

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default="default")
    ap.add_argument("--candidate", required=True, help="a bundle with the same model and fronts, other JSCC codes")
    ap.add_argument("--n-images", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results, cards = {}, {}
    for label, spec in (("baseline", args.baseline), ("candidate", args.candidate)):
        bundle = load_bundle(spec)
        link = bundle.link(4, all_rates=True)
        data = bundle_images(bundle)
        front = bundle.joint_front(link.depth)
        start = max(bundle.rate_front(r).raw.get("study", {}).get("search_images", 0) for r in bundle.front_rates)
        end = min(len(data.labels), start + args.n_images)
        x, y = link.preprocess(list(data.images[start:end])), torch.as_tensor(data.labels[start:end])
        confs = {front.label(p): (front.get(p).rate, MergeSchedule.of(front.get(p))) for p in ("S1", "S2", "S3")}
        confs.update({f"none@m{r}": (r, MergeSchedule(ratios=[0.0] * link.depth)) for r in bundle.front_rates})
        grid = [float(s) for s in front.raw["snr_grid"]]
        results[label] = accuracy_tables(link, x, y, confs, CHANNELS, grid, seed=args.seed)
        cards[label] = next((c for c in reversed(bundle.card) if c.get("step") == "jscc"), {})
    diff = {ch: round(float(np.mean([results["candidate"][c][ch][s] - results["baseline"][c][ch][s]
                                     for c in results["baseline"] for s in results["baseline"][c][ch]])), 4)
            for ch in CHANNELS}
    report = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "images": f"held-out embedded {start}..{end - 1}", "csi": "pilot", "codes": cards,
              "mean_difference_candidate_minus_baseline": diff, "accuracy": results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "jscc_mixture.json").write_text(json.dumps(report, indent=1))
    print("| channel | mean accuracy, baseline codes | candidate codes | difference |")
    print("|---|---|---|---|")
    for ch in CHANNELS:
        def mean(label):
            return np.mean([v for c in results[label].values() for v in c[ch].values()])
        print(f"| {ch} | {100 * mean('baseline'):.1f} % | {100 * mean('candidate'):.1f} % | {100 * diff[ch]:+.1f} |")


if __name__ == "__main__":
    main()
