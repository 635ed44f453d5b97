"""Command-line pieces shared by the project's console scripts."""
from __future__ import annotations

import argparse
import os
import re
import sys

import torch

from ..core.bundle.bundle import Bundle, load_bundle
from ..core.model.merging_vit import MERGE_MODES, MergeSchedule

NEGATIVE_VALUE = re.compile(r"^-[\d.]")      # "-10", "-10:25:5", "-5,0,5": a value, not an option


def parse_args(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """argparse, but ``--snr-sweep -10:25:5`` works as typed.

    argparse takes any word starting with '-' that is not a plain number for
    an option; dB values such as -10:25:5 or -10,-5,0 are glued to the option
    before them (``--snr-sweep=-10:25:5``), which argparse accepts.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    out: list[str] = []
    for word in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and NEGATIVE_VALUE.match(word):
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return ap.parse_args(out)


def float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_bundle_args(ap: argparse.ArgumentParser, rate: bool = True) -> None:
    ap.add_argument("--bundle", default="default",
                    help="model bundle folder (semcom-bundle create), or a built-in one: default, garments")
    if rate:
        ap.add_argument("--rate", type=int, default=4, help="JSCC complex symbols per token (one of the bundle's)")
    add_runtime_args(ap)


def add_runtime_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--threads", type=int, default=int(os.environ.get("SEMCOM_THREADS", "2")),
                    help="CPU threads for torch")
    ap.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N (checked before any work)")


def add_images_arg(ap: argparse.ArgumentParser, default_help: str = "the embedded evaluation set") -> None:
    ap.add_argument("--images", help=f"ImageFolder (one sub-folder per class), 'embedded', 'fashion-mnist' "
                    f"(Debian's training set), 'scenes' (robot-view evaluation scenes) or 'scenes-train'; "
                    f"default: {default_help}")


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


def open_bundle(args) -> Bundle:
    """The bundle named by ``--bundle``; an ``--images`` left out becomes the bundle's evaluation set."""
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.bundle)
    if getattr(args, "images", "given") is None:
        args.images = bundle.eval_images
    return bundle


def bundle_images(bundle: Bundle, limit: int | None = None):
    """The bundle's evaluation set as its model sees it (what benchmarks score a bundle on)."""
    return image_set(bundle.eval_images, limit, bundle.class_names, preprocess=bundle.preprocess_config)


SCENE_SETS = {"scenes": ("eval", 3000), "scenes-train": ("train", 20000)}


def image_set(spec: str | None, limit: int | None = None, class_names: tuple[str, ...] | None = None,
              preprocess: dict | None = None):
    """Images by name: an ImageFolder path, 'embedded' (default), 'fashion-mnist', 'scenes' or 'scenes-train'.

    'scenes' are the robot-view evaluation scenes (test garments), 'scenes-train'
    training scenes; with a squash-mode ``preprocess`` (the bundle's) they are kept
    as that model sees them. With ``class_names`` (the bundle's), an ImageFolder's
    labels are mapped by folder name, so a folder holding a subset of the classes still scores right.
    """
    from ..core.data.datasets import load_embedded_eval, load_fashion_mnist, load_image_folder

    if spec in SCENE_SETS:
        from ..core.data.scene_sets import scene_images

        split, n = SCENE_SETS[spec]
        squash = preprocess is not None and preprocess.get("crop_mode") == "squash"
        data = scene_images(split, min(n, limit or n), tuple(preprocess["input_size"][1:]) if squash else None)
    elif spec in (None, "", "embedded"):
        data = load_embedded_eval().head(limit)
    elif spec == "fashion-mnist":
        data = load_fashion_mnist("train").head(limit)
    else:
        data = load_image_folder(spec, limit)
    if class_names is not None:
        data = data.relabel(class_names)
    return data


def load_images(args, link, class_names: tuple[str, ...] | None = None):
    data = image_set(args.images, args.limit, class_names if class_names is not None else link.loaded.class_names,
                     preprocess=link.loaded.config)
    return link.preprocess(list(data.images)), torch.as_tensor(data.labels)
