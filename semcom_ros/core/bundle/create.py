"""Making bundles: a new one around a classifier (codes and fronts come later), or a writable copy."""
from __future__ import annotations

import shutil
from pathlib import Path

from .bundle import MANIFEST, MODEL_FILE, Bundle, BundleError, card_entry, load_bundle, save_tensors
from .manifest import FORMAT_VERSION


def new_bundle(out: str | Path, architecture: str, kwargs: dict, preprocess: dict, class_names: list[str],
               state: dict, entry: dict, eval_images: str = "embedded") -> Bundle:
    """Write a bundle holding a classifier only (JSCC codes and fronts come later)."""
    out = Path(out)
    if (out / MANIFEST).exists():
        raise BundleError(f"{out} already holds a bundle; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    save_tensors(state, out / MODEL_FILE)
    bundle = Bundle(out, {"format": FORMAT_VERSION, "name": out.name,
                          "model": {"architecture": architecture, "kwargs": kwargs, "weights": MODEL_FILE},
                          "preprocess": preprocess, "class_names": list(class_names), "eval_images": eval_images,
                          "jscc": {}, "fronts": {}, "card": [entry]})
    bundle.save()
    return bundle


def copy_bundle(src: str | Path, out: str | Path) -> Bundle:
    """A writable copy of a bundle (e.g. of the built-in one, to retrain its codes)."""
    source = load_bundle(src)
    out = Path(out)
    if out.exists():
        raise BundleError(f"{out} exists; copy into a new folder")
    shutil.copytree(source.path, out)
    copy = load_bundle(out)
    copy.manifest["name"] = out.name
    copy.add_card(card_entry("copy", source=str(source.path)))
    copy.save()
    return copy
