"""semcom-train-default: train the built-in bundle's ViT on Fashion-MNIST (CPU, resumable).

    semcom-train-default --epochs 22 --bundle my_default

Checkpoints after every epoch to ``--work`` so an interrupted run resumes.
At the end it writes a new bundle holding the model, its preprocessing, the
class names and a card entry with the measured test accuracy; JSCC codes and
the front come next (semcom-train-jscc, semcom-optimize). ``--embedded-eval``
also writes the evaluation images the package embeds.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..core.bundle.bundle import BundleError, card_entry
from ..core.bundle.create import new_bundle
from ..core.data.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from ..core.model.models import build_model
from .training_state import resume_state, save_state, warmup_cosine

EMBEDDED_EVAL_SIZE = 3000   # first test images, shipped with the package
ARCHITECTURE = "vit_tiny_patch16_224"
# 32x32 grey input, 4x4 patches -> 64 tokens + class token, 6 blocks of width 128
DEFAULT_ARCH = dict(img_size=32, patch_size=4, in_chans=1, num_classes=10,
                    embed_dim=128, depth=6, num_heads=4, mlp_ratio=4.0)
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
# 28 px Fashion-MNIST items zero-padded into the 32 px input, as in training
PREPROCESS = {"input_size": [1, 32, 32], "interpolation": "bicubic", "mean": [FMNIST_MEAN], "std": [FMNIST_STD],
              "crop_pct": 1.0, "crop_mode": "center", "pad": 2}


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 Nx28x28 -> normalised Nx1x32x32 (zero-padded as PREPROCESS says)."""
    x = torch.from_numpy(np.pad(images, ((0, 0), (2, 2), (2, 2)))).float().div_(255.0)
    return ((x - FMNIST_MEAN) / FMNIST_STD).unsqueeze(1)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random +-2 px shifts and horizontal flips: cheap, and enough for a small ViT."""
    n = x.shape[0]
    bg = (0.0 - FMNIST_MEAN) / FMNIST_STD
    padded = F.pad(x, (2, 2, 2, 2), value=bg)
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> float:
    model.eval()
    correct = sum((model(x[i:i + batch]).argmax(-1) == y[i:i + batch]).sum().item()
                  for i in range(0, len(y), batch))
    return correct / len(y)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("train_work"), help="checkpoint folder")
    ap.add_argument("--bundle", type=Path, required=True, help="new bundle folder to write")
    ap.add_argument("--embedded-eval", type=Path, default=None,
                    help="also write the first 3000 test images here (.npz, as the package embeds them)")
    ap.add_argument("--limit-train", type=int, default=None, help="use only N training images (smoke runs)")
    args = ap.parse_args(argv)
    if (args.bundle / "bundle.yaml").exists():
        raise SystemExit(f"semcom-train-default: error: {args.bundle} already holds a bundle")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, test = load_fashion_mnist("train"), load_fashion_mnist("t10k")
    xtr, ytr = to_tensor(train.images[:args.limit_train]), torch.from_numpy(train.labels[:args.limit_train])
    xte, yte = to_tensor(test.images), torch.from_numpy(test.labels)

    model = build_model(ARCHITECTURE, DEFAULT_ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(ytr) / args.batch)
    total, warmup = args.epochs * steps_per_epoch, steps_per_epoch
    sched = warmup_cosine(opt, warmup, total)
    gen = torch.Generator().manual_seed(args.seed)
    start_epoch = 0
    args.work.mkdir(parents=True, exist_ok=True)
    ckpt = args.work / "last.pt"
    state = resume_state(ckpt, model, opt, sched, gen)
    if state is not None:
        start_epoch = int(state["epoch"])
        print(f"resumed after epoch {start_epoch}")

    t0 = time.time()
    for epoch in range(start_epoch, args.epochs):
        model.train()
        perm = torch.randperm(len(ytr), generator=gen)
        bar = tqdm(range(0, len(ytr), args.batch), desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=5)
        for i in bar:
            idx = perm[i:i + args.batch]
            loss = F.cross_entropy(model(augment(xtr[idx], gen)), ytr[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        acc = accuracy(model, xte[EMBEDDED_EVAL_SIZE:], yte[EMBEDDED_EVAL_SIZE:])
        print(f"epoch {epoch + 1}: held-out test accuracy {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)
        save_state(ckpt, model, opt, sched, gen, epoch=epoch + 1)

    export(model, xte, yte, test.images, test.labels, args)


def export(model, xte, yte, test_images, test_labels, args) -> None:
    acc_full = accuracy(model, xte, yte)
    acc_embedded = accuracy(model, xte[:EMBEDDED_EVAL_SIZE], yte[:EMBEDDED_EVAL_SIZE])
    entry = card_entry("model", data="Fashion-MNIST (Debian dataset-fashion-mnist), 60000 train images, "
                       "28x28 zero-padded to 32x32",
                       measured={"test_accuracy_10k": round(acc_full, 4),
                                 "embedded_eval_accuracy": round(acc_embedded, 4)})
    try:
        new_bundle(args.bundle, ARCHITECTURE, DEFAULT_ARCH, PREPROCESS, list(FASHION_MNIST_CLASSES),
                   model.state_dict(), entry)
    except BundleError as exc:
        raise SystemExit(f"semcom-train-default: error: {exc}") from exc
    if args.embedded_eval:
        np.savez_compressed(args.embedded_eval, images=test_images[:EMBEDDED_EVAL_SIZE],
                            labels=test_labels[:EMBEDDED_EVAL_SIZE].astype(np.uint8))
    print(json.dumps({"bundle": str(args.bundle), **entry}))


if __name__ == "__main__":
    main()
