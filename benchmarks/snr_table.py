"""Accuracy vs SNR of a bundle (default: the built-in one): unmerged and a merged schedule, on every channel model.

AWGN and i.i.d. Rayleigh with known CSI, then every registered channel model with
pilot CSI as the ROS link runs it (default link conditions: 1 m/s at 2.4 GHz, K = 3,
5 % of 16-symbol blocks erased in bursts of 4).

    python benchmarks/snr_table.py [--rate 4] [--uniform 0.2] [--limit 3000]

Prints a Markdown table (the README's) and writes benchmarks/results/snr_table.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.link.channels import Channel
from semcom_ros.tools.cli_common import bundle_images
from semcom_ros.core.fronts.evaluation import evaluate
from semcom_ros.core.model.merging_vit import MergeSchedule

SNRS = [-10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="default")
    ap.add_argument("--rate", type=int, default=4)
    ap.add_argument("--uniform", type=float, default=0.2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "snr_table.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.bundle)
    link = bundle.link(args.rate)
    data = bundle_images(bundle, args.limit)
    x, y = link.preprocess(list(data.images)), torch.as_tensor(data.labels)
    rows = []
    for name, sched in (("unmerged", MergeSchedule(ratios=[0.0] * link.depth)),
                        (f"uniform r={args.uniform}", MergeSchedule.uniform(args.uniform, link.depth))):
        for kind, csi in [("awgn", "known"), ("rayleigh", "known")] + [(c, "pilot") for c in CHANNELS]:
            res = evaluate(link, x, y, sched, SNRS, Channel(kind, csi))
            rows.append({"schedule": name, "channel": f"{kind} ({csi} CSI)",
                         "noiseless": res.accuracy, "gmacs": res.gmacs, "channel_uses": res.channel_uses,
                         "compression_ratio": res.channel_uses / link.input_values(),
                         "by_snr": res.accuracy_by_snr})
    print(f"{len(y)} evaluation images of bundle {bundle.name} ({bundle.eval_images}), "
          f"JSCC {args.rate} symbols/token\n")
    print("| schedule | channel | GMACs | channel uses (k/HWC) | noiseless | "
          + " | ".join(f"{s:g} dB" for s in SNRS) + " |")
    print("|---" * (5 + len(SNRS)) + "|")
    for r in rows:
        print(f"| {r['schedule']} | {r['channel']} | {r['gmacs']:.4f} | {r['channel_uses']:.0f} "
              f"({r['compression_ratio']:.3f}) | {100 * r['noiseless']:.1f} | "
              + " | ".join(f"{100 * r['by_snr'][s]:.1f}" for s in SNRS) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"images": len(y), "rate": args.rate, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
