"""The built-in bundle's joint front as the README shows it: Table I analogue, accuracy vs SNR, two plots.

    python benchmarks/front_table.py [--bundle default] [--rounds 5] [--threads 1]

Rows: no merging at every rate (from each rate front's baselines) and the joint
operating points S1, S2, S3. Accuracy figures come from the front files (held-out
images); time per frame is measured here, now: edge (ViT + JSCC encoder) on single
frames, eager and graph-captured (``SemanticLink.compile_for``), configurations
interleaved in rounds (median), so the column compares like with like on this
machine today. Compression ratio = channel uses / input values (H*W*C).
The choice the front offers: at 5 dB on each channel its table holds, the
spread between the most and least accurate configurations that cost at most 5x
the cheapest one's channel uses.
Writes benchmarks/results/front_table.json, front_default.png, snr_default.png.
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

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.tools.cli_common import bundle_images
from semcom_ros.core.fronts.front_file import Configuration, rate_name
from semcom_ros.core.fronts.joint_front import mean_accuracy

RESULTS = Path(__file__).parent / "results"


def choice_spread(front, snr_db: float = 5.0, factor: float = 5.0) -> dict[str, dict]:
    """Per channel: the most and least accurate configuration within ``factor`` x the cheapest's uses."""
    cheapest = min(c.channel_uses for c in front.configurations)
    within = [c for c in front.configurations if c.channel_uses <= factor * cheapest]
    out = {}
    for channel in sorted({ch for c in within for ch in c.accuracy_by_channel}):
        acc = {c.name: c.accuracy_by_channel[channel][snr_db] for c in within
               if snr_db in c.accuracy_by_channel.get(channel, {})}
        best, worst = max(acc, key=acc.get), min(acc, key=acc.get)
        out[channel] = {"snr_db": snr_db, "max_channel_uses": factor * cheapest, "configurations": len(acc),
                        "best": best, "best_accuracy": acc[best], "worst": worst, "worst_accuracy": acc[worst],
                        "spread_points": round(100 * (acc[best] - acc[worst]), 1)}
    return out


def rows_of(bundle, front) -> list[tuple[str, Configuration, dict]]:
    """(point, configuration, raw record) for no merging at each rate and S1, S2, S3 of the joint front."""
    out = []
    for rate in bundle.front_rates:
        raw = next(b for b in bundle.rate_front(rate).raw["baselines"] if b["name"] == "none")
        conf = Configuration(rate_name("none", rate), raw["ratios"], None, raw["accuracy"],
                             {float(k): v for k, v in raw["accuracy_by_snr"].items()}, raw["gmacs"],
                             raw["channel_uses"], raw.get("img_per_s", 0.0), raw.get("latency_ms", 0.0), rate)
        out.append((f"none (m{rate})", conf, raw))
    by_name = {c["name"]: c for c in front.raw["configurations"]}
    for point in ("S1", "S2", "S3"):
        conf = front.get(point)
        out.append((front.label(point), conf, by_name[conf.name]))
    return out


@torch.no_grad()
def frame_ms(link, x, confs: list[Configuration], rounds: int, reps: int = 20) -> dict[str, dict[str, float]]:
    """Edge ms per single frame for each configuration, eager and captured, interleaved rounds."""
    for conf in confs:
        link.use(conf)
        link.compile_for(x)
    keys = set(link._compiled_keys)
    times = {(c.name, mode): [] for c in confs for mode in ("eager", "captured")}
    for rnd in range(rounds + 1):           # round 0 warms up
        for conf in confs:
            for mode in ("eager", "captured"):
                link.use(conf)
                link._compiled_keys = keys if mode == "captured" else set()
                t = time.perf_counter()
                for _ in range(reps):
                    link.edge(x)
                if rnd:
                    times[(conf.name, mode)].append(1e3 * (time.perf_counter() - t) / reps)
    link._compiled_keys = keys
    return {c.name: {m: round(float(np.median(times[(c.name, m)])), 3) for m in ("eager", "captured")}
            for c in confs}


def plots(front, rows, out_dir: Path) -> None:
    from semcom_ros.tools.plots import pyplot

    plt = pyplot()
    grid = front.raw["snr_grid"]
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for rate in front.rates:
        confs = [c for c in front.raw["configurations"] if c["rate"] == rate]
        ax.scatter([c["channel_uses"] for c in confs], [100 * mean_accuracy(c, grid) for c in confs],
                   label=f"rate {rate} (symbols/token)", s=18)
    for point, conf, raw in rows:
        marker = "x" if point.startswith("none") else "*"
        ax.scatter([conf.channel_uses], [100 * mean_accuracy(raw, grid)], marker=marker, s=90, color="k")
        ax.annotate(point.split(" (")[0] + ("" if point.startswith("S") else f" m{conf.rate}"),
                    (conf.channel_uses, 100 * mean_accuracy(raw, grid)), textcoords="offset points", xytext=(5, 4))
    ax.set_xscale("log")
    ax.set_xlabel("channel uses per frame (complex symbols, log scale)")
    ax.set_ylabel(f"accuracy averaged over {grid[0]:g}..{grid[-1]:g} dB (%)")
    ax.set_title(f"{front.model}: joint front over JSCC rates (x: no merging)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "front_default.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for point, conf, raw in rows:
        snrs = sorted(conf.accuracy_by_snr)
        ax.plot(snrs, [100 * conf.accuracy_by_snr[s] for s in snrs], "o-" if point.startswith("S") else "x--",
                label=f"{point}: {conf.channel_uses:.0f} channel uses")
    ax.set_xlabel("SNR (dB), AWGN")
    ax.set_ylabel("top-1 accuracy (%), held-out images")
    ax.set_title("accuracy vs SNR: joint operating points and no merging")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "snr_default.png", dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="default")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: as the camera node runs it)")
    ap.add_argument("--out", type=Path, default=RESULTS / "front_table.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.bundle)
    link = bundle.link(bundle.rates[0], all_rates=True)
    front = bundle.front(link.rate, link.depth)
    rows = rows_of(bundle, front)
    x = link.preprocess([bundle_images(bundle, 1).images[0]])
    ms = frame_ms(link, x, [conf for _, conf, _ in rows], args.rounds)
    values = link.input_values()
    table = []
    for point, conf, raw in rows:
        table.append({"point": point, "configuration": conf.name, "rate": conf.rate,
                      "ratios": [round(r, 2) for r in conf.ratios or []],
                      "accuracy": conf.accuracy, "accuracy_20db": conf.accuracy_by_snr.get(20.0),
                      "mean_accuracy_over_snr": round(mean_accuracy(raw, front.raw["snr_grid"]), 4),
                      "accuracy_by_snr": conf.accuracy_by_snr, "gmacs": conf.gmacs,
                      "channel_uses": conf.channel_uses, "compression_ratio": round(conf.channel_uses / values, 4),
                      "edge_ms_eager": ms[conf.name]["eager"], "edge_ms_captured": ms[conf.name]["captured"]})
    report = {"date": datetime.date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch thread(s), "
                         f"torch {torch.__version__}", "threads": args.threads,
              "bundle": bundle.name, "joint_front": {"configurations": len(front.configurations),
                                                     "rules": front.raw["operating_point_rules"],
                                                     "sources": front.raw.get("sources")},
              "input_values": values, "rows": table, "choice_spread": choice_spread(front)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    plots(front, rows, args.out.parent)
    print("| point | rate | ratios r_1..r_L | accuracy | at 20 dB | mean over SNR | GMACs | channel uses | "
          "compression | edge ms eager | edge ms captured |")
    print("|---" * 11 + "|")
    for r in table:
        print(f"| {r['point']} | {r['rate']} | {', '.join(f'{v:.2f}' for v in r['ratios'])} | "
              f"{100 * r['accuracy']:.1f} % | {100 * (r['accuracy_20db'] or 0):.1f} % | "
              f"{100 * r['mean_accuracy_over_snr']:.1f} % | {r['gmacs']:.4f} | {r['channel_uses']:.0f} | "
              f"{r['compression_ratio']:.3f} | {r['edge_ms_eager']:.2f} | {r['edge_ms_captured']:.2f} |")
    print("\naccuracy (%) by SNR (dB):")
    grid = front.raw["snr_grid"]
    print("| point | " + " | ".join(f"{s:g}" for s in grid) + " |")
    print("|---" * (len(grid) + 1) + "|")
    for r in table:
        print(f"| {r['point']} | " + " | ".join(f"{100 * r['accuracy_by_snr'][s]:.1f}" for s in grid) + " |")
    print("\nthe front's choice (configurations within 5x the cheapest one's channel uses):")
    print("| channel | SNR dB | configurations | most accurate | least accurate | spread (points) |")
    print("|---" * 6 + "|")
    for ch, c in report["choice_spread"].items():
        print(f"| {ch} | {c['snr_db']:g} | {c['configurations']} | {c['best']} {100 * c['best_accuracy']:.1f} % | "
              f"{c['worst']} {100 * c['worst_accuracy']:.1f} % | {c['spread_points']:.1f} |")


if __name__ == "__main__":
    main()
