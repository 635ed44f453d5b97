"""Command-line pieces shared by the project's console scripts."""
from __future__ import annotations

import argparse
import os

import torch

from .merging_vit import MERGE_MODES, MergeSchedule
from .models import DEFAULT_MODEL, load_model, torch_device
from .pipeline import SemanticLink, load_jscc


def float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_model_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--model", default="default",
                    help="'default' (embedded Fashion-MNIST ViT) or a timm ViT name")
    ap.add_argument("--pretrained", action="store_true", help="timm models: download pretrained weights")
    ap.add_argument("--checkpoint", default=None, help="local .safetensors (or plain tensor .pt) weights")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("SEMCOM_THREADS", "2")),
                    help="CPU threads for torch")
    ap.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N (checked before any work)")


def add_schedule_args(ap: argparse.ArgumentParser) -> None:
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--ratios", type=float_list, help="per-layer merge ratios r1,...,rL")
    g.add_argument("--uniform", type=float, help="one merge ratio for every layer")
    g.add_argument("--thresholds", type=float_list, help="per-layer similarity thresholds t1,...,tL")
    ap.add_argument("--merge-mode", choices=MERGE_MODES, default="norm",
                    help="norm: norm-weighted merge (APTM eq. 12); size: size-weighted mean (ToMe)")
    ap.add_argument("--prop-attn", action="store_true", help="proportional attention (+log size)")


def schedule_from_args(args: argparse.Namespace, depth: int) -> MergeSchedule:
    """The schedule the arguments ask for, validated against the model's depth."""
    ratios = [args.uniform] * depth if args.uniform is not None else args.ratios
    if ratios is None and args.thresholds is None:
        ratios = [0.0] * depth
    return MergeSchedule(ratios=ratios, thresholds=args.thresholds, mode=args.merge_mode,
                         prop_attn=args.prop_attn).validate(depth)


def build_link(args) -> SemanticLink:
    device = torch_device(args.device)
    loaded = load_model(args.model, pretrained=args.pretrained, checkpoint=args.checkpoint)
    if args.jscc is None and args.model != DEFAULT_MODEL:
        raise ValueError(f"model {args.model!r} has no shipped JSCC: pass --jscc PATH")
    return SemanticLink(loaded, load_jscc(loaded.model.embed_dim, args.rate, args.jscc)).to(device)


def load_images(args, link: SemanticLink):
    from .datasets import load_embedded_eval, load_image_folder

    data = load_image_folder(args.images, args.limit) if args.images else load_embedded_eval().head(args.limit)
    return link.preprocess(list(data.images)), torch.as_tensor(data.labels)
