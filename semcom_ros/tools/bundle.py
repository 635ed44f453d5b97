r"""semcom-bundle: make, copy and inspect model bundles.

    semcom-bundle create my_bundle --model deit_small_distilled_patch16_224 --num-classes 12 \\
        --checkpoint finetuned.pth --images my_images/
    semcom-bundle show my_bundle
    semcom-bundle copy default my_default

``create`` writes the classifier part: timm architecture and arguments, the
weights (from ``--checkpoint``, timm's ``--pretrained`` download, or random
initialisation, which the card says), timm's preprocessing for the model and
the class names (the image folder's sub-folders, a file with one name per
line, ImageNet's for 1000-class heads). Then ``semcom-train-jscc`` and
``semcom-optimize`` add the JSCC codes and the front.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from ..core.bundle.bundle import BundleError, card_entry, load_bundle
from ..core.bundle.create import copy_bundle, new_bundle
from ..core.model.models import (CheckpointError, build_model, data_config, imagenet_classes,
                                 load_state_dict_safely, load_weights)


def model_arg(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. img_size=160), got {text!r}")
    return key, yaml.safe_load(value)


def class_names_for(args) -> list[str] | None:
    if args.images:
        root = Path(args.images)
        if not root.is_dir():
            raise ValueError(f"--images {root}: not a folder")
        names = sorted(p.name for p in root.iterdir() if p.is_dir())
        if not names:
            raise ValueError(f"--images {root}: no class sub-folders")
        return names
    if args.class_names:
        names = [line.strip() for line in Path(args.class_names).read_text().splitlines() if line.strip()]
        if not names:
            raise ValueError(f"--class-names {args.class_names}: no names in it")
        return names
    return None


def create(args) -> dict:
    kwargs = dict(args.model_arg or [])
    names = class_names_for(args)
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    elif names is not None:
        kwargs["num_classes"] = len(names)
    model = build_model(args.model, kwargs, pretrained=args.pretrained)
    weights = "random initialisation (no --checkpoint, no --pretrained)"
    if args.checkpoint:
        load_weights(model, load_state_dict_safely(args.checkpoint), str(args.checkpoint))
        weights = f"checkpoint {args.checkpoint}"
    elif args.pretrained:
        weights = "timm pretrained weights"
    if names is None:
        names = list(imagenet_classes()) if model.num_classes == 1000 else \
            [f"class_{i}" for i in range(model.num_classes)]
    if len(names) != model.num_classes:
        raise ValueError(f"{len(names)} class names but the model has {model.num_classes} outputs: "
                         f"pass --num-classes {len(names)} (a new head) or names that fit")
    pre = data_config(model)
    pe = model.patch_embed
    pre["input_size"] = [int(pe.proj.in_channels), *(int(v) for v in pe.img_size)]   # kwargs may change it
    if pe.proj.in_channels != len(pre["mean"]):
        pre["mean"], pre["std"] = pre["mean"][:1] * pe.proj.in_channels, pre["std"][:1] * pe.proj.in_channels
    kwargs["num_classes"] = int(model.num_classes)
    entry = card_entry("create", weights=weights,
                       class_names_from=args.images or args.class_names or "model head")
    bundle = new_bundle(args.out, args.model, kwargs, pre, names, model.state_dict(), entry)
    problems = bundle.check()
    if problems:
        raise BundleError("; ".join(problems))
    return {"bundle": str(bundle.path), "architecture": args.model, "classes": len(names), "weights": weights}


def describe(bundle) -> dict:
    """What a bundle holds, whether the parts fit and what it still lacks."""
    out = {"bundle": str(bundle.path), "name": bundle.name, "architecture": bundle.architecture,
           "kwargs": bundle.model_kwargs, "input_size": bundle.preprocess_config["input_size"],
           "classes": len(bundle.class_names), "class_names": list(bundle.class_names[:10]),
           "jscc": {r: {k: bundle.jscc_entry(r)[k] for k in ("split", "snr_range_db")} for r in bundle.rates},
           "fronts": {}, "card": bundle.card}
    for r in bundle.front_rates:
        try:
            out["fronts"][r] = front_summary(bundle.rate_front(r))
        except BundleError as exc:
            out["fronts"][r] = {"error": str(exc)}
    if bundle.has_joint_front:
        try:
            out["joint_front"] = front_summary(bundle.joint_front())
        except BundleError as exc:
            out["joint_front"] = {"error": str(exc)}
    out["problems"] = bundle.check()
    out["missing"] = bundle.missing()
    out["complete"] = not out["problems"] and not out["missing"]
    return out


def front_summary(front) -> dict:
    return {"configurations": len(front.configurations), "rates": front.rates,
            **{k: {"name": v, "accuracy": front.get(v).accuracy, "gmacs": front.get(v).gmacs,
                   "channel_uses": front.get(v).channel_uses} for k, v in front.operating_points.items() if v}}


def print_description(d: dict) -> None:
    print(f"bundle {d['name']} ({d['bundle']})")
    print(f"  model      {d['architecture']} {d['kwargs']}, input {d['input_size']}")
    more = " ..." if d["classes"] > len(d["class_names"]) else ""
    print(f"  classes    {d['classes']}: {', '.join(d['class_names'])}{more}")
    for r, j in d["jscc"].items():
        print(f"  JSCC       rate {r}: split after block {j['split']}, trained for {j['snr_range_db']} dB")
    for r, f in d["fronts"].items():
        points = ", ".join(f"{k} {v['name']} {v['accuracy']:.1%} {v['gmacs']:.4f} GMACs"
                           for k, v in f.items() if isinstance(v, dict))
        print(f"  front      rate {r}: {f.get('configurations', '?')} configurations; {points or f.get('error')}")
    if "joint_front" in d:
        j = d["joint_front"]
        points = ", ".join(f"{k} {v['name']} {v['accuracy']:.1%} {v['channel_uses']:.0f} channel uses"
                           for k, v in j.items() if isinstance(v, dict))
        print(f"  joint      rates {j.get('rates', '?')}: {j.get('configurations', '?')} configurations; "
              f"{points or j.get('error')}")
    for e in d["card"]:
        print(f"  card       {e.get('date', '?')} {e.get('step', '?')}: {e.get('command', '')}")
    for p in d["problems"]:
        print(f"  PROBLEM    {p}")
    print(f"  complete   {'yes' if d['complete'] else 'no'}"
          + (f" (missing: {', '.join(d['missing'])})" if d["missing"] else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="a new bundle holding a classifier")
    c.add_argument("out", type=Path, help="new bundle folder")
    c.add_argument("--model", required=True, help="timm ViT architecture name, e.g. deit_small_patch16_224")
    c.add_argument("--num-classes", type=int, help="classes of the head (default: from --images/--class-names)")
    c.add_argument("--model-arg", type=model_arg, action="append", metavar="KEY=VALUE",
                   help="more timm.create_model arguments (img_size=160, patch_size=8, depth=6, ...)")
    c.add_argument("--checkpoint", help="weights: .safetensors, or a torch file read with weights_only=True")
    c.add_argument("--pretrained", action="store_true", help="timm's pretrained weights (needs its model hub)")
    names = c.add_mutually_exclusive_group()
    names.add_argument("--images", help="ImageFolder whose sub-folder names are the classes (sorted)")
    names.add_argument("--class-names", help="text file, one class name per line, in head order")
    s = sub.add_parser("show", help="what a bundle holds and whether it is complete")
    s.add_argument("bundle", help="bundle folder, or a built-in one's name (default, garments)")
    s.add_argument("--json", action="store_true")
    cp = sub.add_parser("copy", help="a writable copy of a bundle")
    cp.add_argument("source", help="bundle folder, or a built-in one's name (default, garments)")
    cp.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    try:
        if args.command == "create":
            print(json.dumps(create(args)))
        elif args.command == "copy":
            print(json.dumps({"bundle": str(copy_bundle(args.source, args.out).path)}))
        else:
            d = describe(load_bundle(args.bundle))
            print(json.dumps(d)) if args.json else print_description(d)
            return 0 if not d["problems"] else 1
    except (ValueError, OSError, BundleError, CheckpointError) as exc:
        print(f"semcom-bundle: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
