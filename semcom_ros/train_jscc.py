"""Train the default model's JSCC pairs with the ViT frozen (METHOD §6).

    python -m semcom_ros.train_jscc --rates 2,4,8 --steps 2000

Each step draws a batch of Fashion-MNIST training images, a random merge
schedule (so the code sees merged tokens too) and a per-image SNR uniform
in -10..25 dB over AWGN; one ViT pass feeds every rate. Loss: cross-entropy
of the server's classification plus token reconstruction error.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .channels import Channel
from .datasets import load_fashion_mnist
from .jscc import JSCC, SNR_RANGE_DB
from .merging_vit import MergeSchedule
from .models import load_model
from .pipeline import SemanticLink
from .train_default import to_tensor


def random_schedule(depth: int, gen: torch.Generator, r_max: float = 0.4) -> MergeSchedule:
    if torch.rand(1, generator=gen).item() < 0.25:
        return MergeSchedule(ratios=[0.0] * depth)
    return MergeSchedule(ratios=(torch.rand(depth, generator=gen) * r_max).tolist())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="2,4,8", help="complex symbols per token, one JSCC each")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--recon-weight", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None, help="ViT weights (default: the shipped ones)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "weights")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    link = SemanticLink(load_model("default", checkpoint=args.checkpoint))
    for p in link.model.parameters():
        p.requires_grad_(False)
    train = load_fashion_mnist("train")
    x_all, y_all = to_tensor(train.images), torch.from_numpy(train.labels)
    channel = Channel("awgn")
    rates = [int(r) for r in args.rates.split(",")]
    dim = link.model.embed_dim
    codes = {m: JSCC(dim, m) for m in rates}
    with torch.no_grad():
        tokens = link.edge(x_all[:2048]).tokens
    for code in codes.values():
        code.fit_standardisation(tokens)
    opts = {m: torch.optim.AdamW(c.parameters(), lr=args.lr, weight_decay=1e-4) for m, c in codes.items()}
    scheds = {m: torch.optim.lr_scheduler.CosineAnnealingLR(o, args.steps) for m, o in opts.items()}
    lo, hi = SNR_RANGE_DB
    t0 = time.time()
    bar = tqdm(range(args.steps), desc="JSCC", mininterval=5)
    for step in bar:
        idx = torch.randint(0, len(y_all), (args.batch,), generator=gen)
        link.schedule = random_schedule(link.depth, gen)
        frame = link.edge(x_all[idx])
        snr = lo + (hi - lo) * torch.rand(args.batch, generator=gen)
        losses = {}
        for m, code in codes.items():
            z = code.encode(frame.tokens)
            decoded = code.decode(channel.transmit(z, snr, gen).symbols, snr)
            logits = link.server(decoded, frame.sizes)
            recon = F.mse_loss((decoded - code.mean) / code.std, (frame.tokens - code.mean) / code.std)
            loss = F.cross_entropy(logits, y_all[idx]) + args.recon_weight * recon
            opts[m].zero_grad(set_to_none=True)
            loss.backward()
            opts[m].step()
            scheds[m].step()
            losses[m] = round(loss.item(), 3)
        bar.set_postfix({f"m{m}": v for m, v in losses.items()})

    from safetensors.torch import save_file

    args.out.mkdir(parents=True, exist_ok=True)
    for m, code in codes.items():
        save_file({k: v.contiguous() for k, v in code.state_dict().items()},
                  str(args.out / f"jscc_default_m{m}.safetensors"))
    info = {"rates": rates, "steps": args.steps, "batch": args.batch, "seconds": round(time.time() - t0),
            "command": "python -m semcom_ros.train_jscc " + " ".join(sys.argv[1:] if argv is None else argv)}
    (args.out / "JSCC_CARD.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))


if __name__ == "__main__":
    main()
