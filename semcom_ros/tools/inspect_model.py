"""semcom-inspect: run one real image through a merging ViT and report tokens and MACs.

    semcom-inspect --uniform 0.2 --json                      (the built-in bundle)
    semcom-inspect --bundle my_bundle --image photo.jpg --json
    semcom-inspect --model vit_base_patch16_224 --ratios 0.1,0.1,... --image photo.jpg --json

``--model`` looks at any timm ViT without a bundle (random weights unless
``--pretrained``, timm's own preprocessing).
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from ..core.bundle.bundle import BUILTIN, load_bundle
from ..core.model.macs import VitShape, gmacs
from ..core.model.merging_vit import apply_merging
from ..core.model.models import LoadedModel, build_model, data_config, imagenet_classes, torch_device
from ..core.data.preprocess import make_preprocess
from .cli_common import add_runtime_args, add_schedule_args, parse_args, schedule_from_args


def sample_image(grey: bool) -> tuple[np.ndarray, str]:
    """A real picture that needs no download: a Fashion-MNIST test image for grey models, else a photo."""
    if grey:
        from ..core.data.datasets import load_embedded_eval

        data = load_embedded_eval()
        return data.images[0], f"embedded eval image 0 ({data.class_names[data.labels[0]]})"
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        img = matplotlib.image.imread(f, format="jpg")
    return np.asarray(img, dtype=np.uint8), "matplotlib sample grace_hopper.jpg"


def read_image(path: str) -> np.ndarray:
    import cv2

    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot read image {path!r}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def timm_model(name: str, pretrained: bool) -> LoadedModel:
    model = build_model(name, pretrained=pretrained)
    classes = imagenet_classes() if model.num_classes == 1000 else tuple(str(i) for i in range(model.num_classes))
    return LoadedModel(name, model, make_preprocess(data_config(model)), classes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--bundle", default=BUILTIN, help="model bundle folder, or 'default' (built in)")
    which.add_argument("--model", help="any timm ViT name instead of a bundle")
    ap.add_argument("--pretrained", action="store_true", help="--model: download timm's pretrained weights")
    add_runtime_args(ap)
    add_schedule_args(ap)
    ap.add_argument("--image", help="image file (default: a built-in real image)")
    ap.add_argument("--topk", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = parse_args(ap, argv)
    torch.set_num_threads(args.threads)
    try:
        device = torch_device(args.device)
        loaded = timm_model(args.model, args.pretrained) if args.model else load_bundle(args.bundle).load_model()
        model = apply_merging(loaded.model).to(device)
        model.merge_schedule = schedule_from_args(args, len(model.blocks))
        grey = model.patch_embed.proj.in_channels == 1
        image, image_name = (read_image(args.image), args.image) if args.image else sample_image(grey)
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        print(f"semcom-inspect: error: {exc}", file=sys.stderr)
        return 2
    with torch.no_grad():
        probs = model(loaded.preprocess(image)[None].to(device)).softmax(-1)[0].cpu()
    shape = VitShape.of(model)
    tokens = list(model.merge_state.tokens_per_layer)
    top = probs.topk(min(args.topk, probs.numel()))
    sched = model.merge_schedule
    report = {
        "model": loaded.name, "image": image_name,
        "schedule": {"ratios": sched.ratios, "thresholds": sched.thresholds, "mode": sched.mode,
                     "prop_attn": sched.prop_attn},
        "num_patches": shape.num_patches, "tokens_per_layer": tokens,
        "gmacs": round(gmacs(shape, tokens), 4), "gmacs_unmerged": round(gmacs(shape), 4),
        "top": [{"class_id": int(i), "label": loaded.class_names[i] if i < len(loaded.class_names) else str(int(i)),
                 "score": round(float(p), 4)} for p, i in zip(top.values, top.indices)],
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['model']} on {image_name}")
        print(f"tokens per layer: {tokens} (of {shape.num_patches})")
        print(f"GMACs: {report['gmacs']} (unmerged {report['gmacs_unmerged']})")
        for t in report["top"]:
            print(f"  {t['score']:.3f}  {t['label']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
