"""semcom-eval: accuracy of a merge schedule, noiseless and through JSCC + channel.

For example

    semcom-eval --uniform 0.2 --snr-sweep -10:25:5 --channel rayleigh --json
    semcom-eval --bundle my_bundle --images my_images/ --policy S2 --snr 10 --plot acc.png
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..core.bundle.bundle import BundleError
from ..core.link.channels import CHANNELS, CSI_MODES, Channel
from ..core.fronts.evaluation import evaluate
from ..core.model.merging_vit import MergeSchedule
from ..core.model.models import CheckpointError
from .cli_common import (add_bundle_args, add_images_arg, add_schedule_args, load_images, open_bundle, parse_args,
                         schedule_from_args)


def snr_list(args) -> list[float]:
    if args.snr_sweep:
        try:
            a, b, step = (float(v) for v in args.snr_sweep.split(":"))
        except ValueError as exc:
            raise ValueError(f"--snr-sweep wants A:B:STEP, got {args.snr_sweep!r}") from exc
        if step <= 0 or b < a:
            raise ValueError("--snr-sweep needs A <= B and STEP > 0")
        return [round(float(v), 3) for v in np.arange(a, b + step / 2, step)]
    return [args.snr] if args.snr is not None else []


def plot_accuracy(path: str, snrs, curves: dict[str, dict], title: str) -> None:
    from .plots import finish, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, res in curves.items():
        ax.plot(snrs, [res["accuracy_by_snr"][s] * 100 for s in snrs], marker="o", label=name)
        ax.axhline(res["accuracy"] * 100, ls=":", lw=0.8, color=ax.lines[-1].get_color())
    finish(plt, fig, ax, path, "SNR (dB)", "top-1 accuracy (%)", title)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bundle_args(ap)
    add_schedule_args(ap)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--snr", type=float, help="one SNR in dB")
    g.add_argument("--snr-sweep", help="A:B:STEP in dB, inclusive")
    ap.add_argument("--channel", choices=CHANNELS, default="awgn")
    ap.add_argument("--csi", choices=CSI_MODES, default="known", help="equalise with true or pilot-estimated h")
    ap.add_argument("--policy", help="a configuration of the bundle's front by name (p03, or S1/S2/S3)")
    add_images_arg(ap)
    ap.add_argument("--limit", type=int, help="evaluate only the first N images")
    ap.add_argument("--seed", type=int, default=0, help="channel noise seed")
    ap.add_argument("--plot", help="write accuracy vs SNR as PNG")
    ap.add_argument("--json", action="store_true")
    args = parse_args(ap, argv)
    try:
        snrs = snr_list(args)
        bundle = open_bundle(args)
        link = bundle.link(args.rate, args.device, all_rates=True)
        schedule = schedule_from_args(args, link.depth)
        if args.policy:
            if args.ratios or args.uniform is not None or args.thresholds:
                raise ValueError("--policy replaces --ratios/--uniform/--thresholds: give one")
            conf = bundle.front(args.rate, link.depth).get(args.policy)
            link.rate = conf.rate          # an operating point of a joint front carries its own rate
            schedule = MergeSchedule.of(conf, mode=args.merge_mode, prop_attn=args.prop_attn).validate(link.depth)
        x, y = load_images(args, link)
        channel = Channel(args.channel, args.csi)
    except (ValueError, TypeError, OSError, KeyError, CheckpointError, BundleError) as exc:
        print(f"semcom-eval: error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    res = evaluate(link, x, y, schedule, snrs, channel, seed=args.seed).as_dict()
    report = {"bundle": bundle.name, "policy": args.policy, "channel": args.channel, "csi": args.csi, "rate": args.rate,
              "schedule": {"ratios": schedule.ratios, "thresholds": schedule.thresholds, "mode": schedule.mode},
              **res, "compression_ratio": round(res["channel_uses"] / link.input_values(), 4)}
    if args.plot and snrs:
        plot_accuracy(args.plot, snrs, {"schedule": res}, f"{bundle.name}, {args.channel}, m={args.rate}")
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['n_images']} images, noiseless accuracy {report['accuracy']:.4f}, "
              f"{report['gmacs']:.4f} GMACs, {report['channel_uses']:.1f} channel uses "
              f"(ratio {report['compression_ratio']})")
        for snr, acc in report["accuracy_by_snr"].items():
            print(f"  {snr:6.1f} dB: {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
