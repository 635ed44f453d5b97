"""The bundle manifest's shape (bundle.yaml), checked before any part is loaded."""
from __future__ import annotations

FORMAT_VERSION = 1


class BundleError(ValueError):
    """A bundle that cannot be used, with what exactly is wrong."""


def validate_manifest(data, source: str) -> dict:
    """Check the manifest's shape and name the first problem (where, what was expected)."""
    if not isinstance(data, dict):
        raise BundleError(f"{source}: expected a mapping at the top level")
    if data.get("format") != FORMAT_VERSION:
        raise BundleError(f"{source}: format {data.get('format')!r}, this version reads {FORMAT_VERSION}")
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("architecture"), str):
        raise BundleError(f"{source}: model.architecture (a timm model name) is required")
    if not isinstance(model.get("kwargs") or {}, dict):
        raise BundleError(f"{source}: model.kwargs must be a mapping of timm.create_model arguments")
    pre = data.get("preprocess")
    if not isinstance(pre, dict):
        raise BundleError(f"{source}: preprocess (input_size, mean, std, ...) is required")
    size = pre.get("input_size")
    if not (isinstance(size, list) and len(size) == 3 and all(isinstance(v, int) and v > 0 for v in size)
            and size[0] in (1, 3)):
        raise BundleError(f"{source}: preprocess.input_size must be [channels (1 or 3), height, width]")
    for key in ("mean", "std"):
        vals = pre.get(key)
        if not (isinstance(vals, list) and len(vals) == size[0] and all(isinstance(v, (int, float)) for v in vals)):
            raise BundleError(f"{source}: preprocess.{key} must list {size[0]} number(s)")
    if any(v <= 0 for v in pre["std"]):
        raise BundleError(f"{source}: preprocess.std must be positive")
    if pre.get("crop_mode", "center") not in ("center", "squash"):
        raise BundleError(f"{source}: preprocess.crop_mode must be center or squash")
    if not 0 < float(pre.get("crop_pct", 1.0)) <= 1.0:
        raise BundleError(f"{source}: preprocess.crop_pct must lie in (0, 1]")
    pad = pre.get("pad", 0)
    if not isinstance(pad, int) or pad < 0 or 2 * pad >= min(size[1:]):
        raise BundleError(f"{source}: preprocess.pad must be a small non-negative integer")
    if not isinstance(data.get("eval_images", "embedded"), str):
        raise BundleError(f"{source}: eval_images names the bundle's evaluation set (embedded, scenes or a folder)")
    names = data.get("class_names")
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise BundleError(f"{source}: class_names must be a non-empty list of strings")
    for rate, entry in (data.get("jscc") or {}).items():
        where = f"{source}: jscc[{rate}]"
        if not isinstance(rate, int) or rate < 1:
            raise BundleError(f"{where}: rates are positive integers (complex symbols per token)")
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise BundleError(f"{where}: needs file, split and snr_range_db")
        if not isinstance(entry.get("split"), int) or entry["split"] < 1:
            raise BundleError(f"{where}.split: the block after which the edge sends tokens (>= 1)")
        rng = entry.get("snr_range_db")
        if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, (int, float)) for v in rng)
                and rng[0] < rng[1]):
            raise BundleError(f"{where}.snr_range_db: [low, high] in dB")
    for rate, name in (data.get("fronts") or {}).items():
        if not isinstance(rate, int) or not isinstance(name, str):
            raise BundleError(f"{source}: fronts maps a rate to a front file name, got {rate!r}: {name!r}")
    if not isinstance(data.get("joint_front") or "", str):
        raise BundleError(f"{source}: joint_front names the joint front file, got {data['joint_front']!r}")
    if not isinstance(data.get("card") or [], list):
        raise BundleError(f"{source}: card must be a list of entries")
    return data
