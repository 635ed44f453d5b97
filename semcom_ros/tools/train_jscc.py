"""semcom-train-jscc: train a bundle's JSCC codes with its ViT frozen (METHOD §6).

    semcom-train-jscc --bundle my_bundle --images my_images/ --rates 2,4,8 --steps 2000

Each step draws a batch of training images, a random merge schedule (so the
code sees merged tokens too), a per-image SNR uniform over the SNR range and
a channel, one of ``--channels`` per step (by default AWGN, Rayleigh, Rician and
Gilbert-Elliott bursts), with pilot CSI as the ROS link runs it (the decoder is
told the pilot estimate of the frame's SNR); ``--channels awgn`` trains as
before the moving-robot channels, on AWGN with known CSI. The mixture was better
on every channel, AWGN included (benchmarks/jscc_mixture.py, docs/results.md).
One ViT pass feeds every rate. Loss: cross-entropy of the server's
classification plus token reconstruction error. The codes, their split point
and SNR range go into the bundle; the card records the run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..core.bundle.bundle import BundleError, card_entry
from ..core.link.channel_models import CHANNELS
from ..core.fronts.channel_tables import PILOT_RECORDS
from ..core.link.channels import Channel
from ..core.link.jscc import JSCC, SNR_RANGE_DB
from ..core.link.semantic_link import SemanticLink
from ..core.model.merging_vit import MergeSchedule
from ..core.model.models import CheckpointError, torch_device
from .cli_common import add_runtime_args, image_set, open_bundle, parse_args

MIXTURE = "awgn,rayleigh,rician,gilbert_elliott"


def random_schedule(depth: int, gen: torch.Generator, r_max: float = 0.4) -> MergeSchedule:
    if torch.rand(1, generator=gen).item() < 0.25:
        return MergeSchedule(ratios=[0.0] * depth)
    return MergeSchedule(ratios=(torch.rand(depth, generator=gen) * r_max).tolist())


def snr_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH in dB, got {text!r}") from exc
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"LOW must be below HIGH, got {text!r}")
    return lo, hi


@torch.no_grad()
def edge_tokens(link: SemanticLink, x: torch.Tensor, batch: int) -> torch.Tensor:
    link.schedule = MergeSchedule(ratios=[0.0] * link.depth)
    return torch.cat([link.edge(x[i:i + batch]).tokens for i in range(0, len(x), batch)])


def train(link: SemanticLink, x: torch.Tensor, y: torch.Tensor, rates: list[int], steps: int, batch: int,
          lr: float = 2e-3, recon_weight: float = 0.1, snr_db: tuple[float, float] = SNR_RANGE_DB,
          seed: int = 0, channels: tuple[str, ...] = ("awgn",)) -> dict[int, JSCC]:
    """One JSCC pair per rate, trained together on the frozen link, on AWGN or a mixture of ``channels``."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for p in link.model.parameters():
        p.requires_grad_(False)
    if tuple(channels) == ("awgn",):      # as before the mixture: AWGN, known CSI
        mixture = {m: [Channel("awgn")] for m in rates}
    else:
        mixture = {m: [Channel(c, csi="pilot", n_pilots=PILOT_RECORDS * m) for c in channels] for m in rates}
    dim = link.model.embed_dim
    codes = {m: JSCC(dim, m, snr_range_db=snr_db).to(link.device) for m in rates}
    sample = edge_tokens(link, x[:min(len(x), 512)], batch)
    for code in codes.values():
        code.fit_standardisation(sample)
    opts = {m: torch.optim.AdamW(c.parameters(), lr=lr, weight_decay=1e-4) for m, c in codes.items()}
    scheds = {m: torch.optim.lr_scheduler.CosineAnnealingLR(o, steps) for m, o in opts.items()}
    lo, hi = snr_db
    bar = tqdm(range(steps), desc="JSCC", mininterval=5)
    for _ in bar:
        idx = torch.randint(0, len(y), (min(batch, len(y)),), generator=gen)
        link.schedule = random_schedule(link.depth, gen)
        frame = link.edge(x[idx].to(link.device))
        snr = lo + (hi - lo) * torch.rand(len(idx), generator=gen)
        losses = {}
        pick = int(torch.randint(0, len(channels), (1,), generator=gen)) if len(channels) > 1 else 0
        for m, code in codes.items():
            z = code.encode(frame.tokens)
            rx = mixture[m][pick].transmit(z.cpu(), snr, gen)
            decoded = code.decode(rx.symbols.to(link.device), rx.decoder_snr_db.to(link.device))
            logits = link.server(decoded, frame.sizes)
            recon = F.mse_loss((decoded - code.mean) / code.std, (frame.tokens - code.mean) / code.std)
            loss = F.cross_entropy(logits, y[idx].to(link.device)) + recon_weight * recon
            opts[m].zero_grad(set_to_none=True)
            loss.backward()
            opts[m].step()
            scheds[m].step()
            losses[m] = round(loss.item(), 3)
        bar.set_postfix({f"m{m}": v for m, v in losses.items()})
    link.schedule = MergeSchedule(ratios=[0.0] * link.depth)
    return {m: c.eval() for m, c in codes.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="bundle folder to train codes for (written into it)")
    ap.add_argument("--images", required=True, help="training images: an ImageFolder (one sub-folder per class), "
                    "'fashion-mnist' (Debian's training set) or 'scenes-train' (robot-view training scenes)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    ap.add_argument("--rates", default="2,4,8", help="complex symbols per token, one JSCC each")
    ap.add_argument("--split", type=int, default=None, help="block after which the edge sends tokens (default: last)")
    ap.add_argument("--snr-range", type=snr_range, default=SNR_RANGE_DB, help="LOW:HIGH training SNR in dB")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--recon-weight", type=float, default=0.1)
    ap.add_argument("--channels", default=MIXTURE,
                    help=f"training channel, or a comma-separated mixture (one per step), of {', '.join(CHANNELS)}")
    ap.add_argument("--seed", type=int, default=0)
    add_runtime_args(ap)
    args = parse_args(ap, argv)
    try:
        channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
        if not channels or set(channels) - set(CHANNELS):
            raise ValueError(f"--channels: some of {', '.join(CHANNELS)}, got {args.channels!r}")
        rates = sorted({int(r) for r in args.rates.split(",")})
        if not rates or min(rates) < 1:
            raise ValueError(f"--rates: positive integers, got {args.rates!r}")
        bundle = open_bundle(args).writable()
        loaded = bundle.load_model()
        split = len(loaded.model.blocks) if args.split is None else args.split
        link = SemanticLink(loaded, split=split).to(torch_device(args.device))
        data = image_set(args.images, args.limit, bundle.class_names, preprocess=bundle.preprocess_config)
    except (ValueError, OSError, BundleError, CheckpointError) as exc:
        print(f"semcom-train-jscc: error: {exc}", file=sys.stderr)
        return 2
    x, y = link.preprocess(list(data.images)).cpu(), torch.as_tensor(data.labels)
    t0 = time.time()
    codes = train(link, x, y, rates, args.steps, args.batch, args.lr, args.recon_weight, args.snr_range, args.seed,
                  channels)
    seconds = round(time.time() - t0)
    for m, code in codes.items():
        bundle.save_jscc(m, code.cpu(), split)
    bundle.add_card(card_entry("jscc", rates=rates, split=split, snr_range_db=list(args.snr_range), data=args.images,
                               images=len(y), channels=list(channels), steps=args.steps, batch=args.batch,
                               seconds=seconds))
    bundle.save()
    print(json.dumps({"bundle": str(bundle.path), "rates": rates, "split": split, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
