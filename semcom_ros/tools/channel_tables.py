"""semcom-channel-tables: add accuracy-by-SNR tables for other channel models to a bundle's fronts.

    semcom-channel-tables --bundle my_bundle --channels correlated_rayleigh,rician,gilbert_elliott

Every configuration of every rate front (and its unmerged baseline) is run on
the front's held-out images (those after its search images) through each
channel model at each SNR of the front's grid, with pilot CSI as the ROS link
runs it. The tables go into the configurations' ``accuracy_by_channel`` (the
front's own channel's into ``accuracy_by_snr``: after new JSCC codes, list it too
and every table is re-measured; the configurations stay, as merge schedules do
not depend on the code), the conditions they were made under into the front's
``channel_tables``; the joint front is rebuilt and the card notes the run. Policies then read the table of
the channel they are on (``Front.on_channel``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys

import torch
from tqdm import tqdm

from ..core.bundle.bundle import BundleError, card_entry
from ..core.link.channel_models import CHANNELS, LinkConditions, make_channel
from ..core.fronts.channel_tables import PILOT_RECORDS, accuracy_tables
from ..core.model.merging_vit import MergeSchedule
from .cli_common import add_bundle_args, add_images_arg, image_set, open_bundle, parse_args

DEFAULT_CHANNELS = "awgn,rayleigh,correlated_rayleigh,rician,gilbert_elliott"


def arguments() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bundle_args(ap, rate=False)
    add_images_arg(ap, "the embedded evaluation set, as the fronts were made")
    ap.add_argument("--channels", default=DEFAULT_CHANNELS, help=f"comma-separated, of {', '.join(CHANNELS)}")
    ap.add_argument("--n-images", type=int, default=None, help="held-out images to use (default: all of them)")
    defaults = LinkConditions()
    for name in ("k_factor", "burst_loss", "burst_length", "block_symbols"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=type(getattr(defaults, name)),
                        default=getattr(defaults, name), help=f"link condition {name} (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parse_args(arguments(), argv)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    try:
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown or not channels:
            raise ValueError(f"--channels: unknown {unknown}; use some of {CHANNELS}")
        conditions = LinkConditions(k_factor=args.k_factor, burst_loss=args.burst_loss,
                                    burst_length=args.burst_length, block_symbols=args.block_symbols)
        bundle = open_bundle(args).writable()
        if not bundle.front_rates:
            raise BundleError(f"bundle {bundle.name} has no fronts yet (semcom-optimize makes them)")
        link = bundle.link(bundle.front_rates[0], args.device, all_rates=True)
        data = image_set(args.images, None, link.loaded.class_names, preprocess=link.loaded.config)
    except (ValueError, OSError, BundleError) as exc:
        print(f"semcom-channel-tables: error: {exc}", file=sys.stderr)
        return 2
    x_all, y_all = None, torch.as_tensor(data.labels)
    summary = {}
    for rate in bundle.front_rates:
        front = bundle.rate_front(rate, link.depth)
        raw = front.raw
        start = int((raw.get("study") or {}).get("search_images", 0))
        end = len(y_all) if args.n_images is None else min(len(y_all), start + args.n_images)
        if end <= start:
            print(f"semcom-channel-tables: error: no held-out images after the {start} search images",
                  file=sys.stderr)
            return 2
        if x_all is None:
            x_all = link.preprocess(list(data.images))
        records = raw["configurations"] + list(raw.get("baselines") or [])
        confs = {r["name"]: (rate, MergeSchedule(ratios=r.get("ratios"), thresholds=r.get("thresholds")))
                 for r in records}
        with tqdm(total=len(confs), desc=f"rate {rate}") as bar:
            tables = accuracy_tables(link, x_all[start:end], y_all[start:end], confs, channels,
                                     raw.get("snr_grid") or [], conditions, args.seed, progress=bar)
        own = raw.get("channel", "awgn")
        for r in records:
            got = {ch: {s: round(a, 4) for s, a in t.items()} for ch, t in tables[r["name"]].items()}
            if own in got:
                r["accuracy_by_snr"] = got.pop(own)
            r["accuracy_by_channel"] = {**(r.get("accuracy_by_channel") or {}), **got}
        made = {"images": f"{start}..{end - 1}", "csi": "pilot", "pilot_records": PILOT_RECORDS,
                "date": datetime.date.today().isoformat()}
        raw["channel_tables"] = {**(raw.get("channel_tables") or {}),
                                 **{ch: {**made, **make_channel(ch, conditions).conditions_read()} for ch in channels}}
        bundle.save_front(rate, raw)
        summary[rate] = {"configurations": len(confs), "images": end - start}
    bundle.add_card(card_entry("channel_tables", channels=channels, rates=bundle.front_rates,
                               conditions={k: getattr(conditions, k) for k in
                                           ("k_factor", "burst_loss", "burst_length", "block_symbols")},
                               today=f"semcom-channel-tables --bundle OUT --channels {','.join(channels)}"))
    bundle.save()
    print(json.dumps({"bundle": str(bundle.path), "channels": channels, "fronts": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
