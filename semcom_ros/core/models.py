"""Classifiers as a bundle describes them: a timm ViT by name and arguments, safe weights, preprocessing.

A model is ``timm.create_model(architecture, **kwargs)``; the embedded
default is one too (a small ``vit_tiny`` variant). Preprocessing is timm's
data config (input size, interpolation, mean/std, crop) applied to numpy
camera frames, plus two fields timm lacks for small grey models: one input
channel means grey, and ``pad`` zero-pads after resizing (Fashion-MNIST's
28 px digits in a 32 px input).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded safely or does not fit the model."""


@dataclass
class LoadedModel:
    name: str
    model: torch.nn.Module
    preprocess: Callable[[np.ndarray], torch.Tensor]   # uint8 HxW[xC] -> CxHxW float
    class_names: tuple[str, ...]


def build_model(architecture: str, kwargs: dict | None = None, pretrained: bool = False) -> torch.nn.Module:
    """A timm model in eval mode; unknown names and arguments become ValueErrors that say which."""
    import timm

    try:
        model = timm.create_model(architecture, pretrained=pretrained, **(kwargs or {}))
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"cannot build timm model {architecture!r} with {kwargs or {}}: {exc}") from exc
    return model.eval()


def data_config(model: torch.nn.Module) -> dict:
    """timm's evaluation data config of a model, as plain YAML-friendly values."""
    from timm.data import resolve_data_config

    cfg = resolve_data_config({}, model=model)
    return {"input_size": [int(v) for v in cfg["input_size"]], "interpolation": str(cfg["interpolation"]),
            "mean": [float(v) for v in cfg["mean"]], "std": [float(v) for v in cfg["std"]],
            "crop_pct": float(cfg["crop_pct"]), "crop_mode": str(cfg.get("crop_mode", "center")), "pad": 0}


def center_crop(img: np.ndarray, out_h: int, out_w: int, crop_pct: float) -> np.ndarray:
    """The centred region with the output's aspect ratio covering ``crop_pct`` of the shorter side.

    Same framing as timm's eval transform (shorter side to size/crop_pct, then
    centre crop), cut before resizing so nothing is squashed and less is resized.
    """
    h, w = img.shape[:2]
    scale = min(h / out_h, w / out_w) * crop_pct
    ch, cw = max(1, round(out_h * scale)), max(1, round(out_w * scale))
    top, left = (h - ch) // 2, (w - cw) // 2
    return img[top:top + ch, left:left + cw]


def resize(img: np.ndarray, out_h: int, out_w: int, interp: int) -> np.ndarray:
    """Resize a camera frame; a large shrink takes OpenCV's whole-factor area path first.

    OpenCV's ``INTER_AREA`` by whole factors is several times faster than
    by, say, 480/28, and a 640x480 frame's resize was the largest cost of the
    camera node outside the model. Fewer edge rows/columns than the factor are
    trimmed for it (under 1/out of the view). Enlarging uses ``interp``.
    """
    import cv2

    h, w = img.shape[:2]
    if (h, w) == (out_h, out_w):
        return img
    if h < out_h or w < out_w:
        return cv2.resize(np.ascontiguousarray(img), (out_w, out_h), interpolation=interp)
    kh, kw = h // out_h, w // out_w
    if kh * kw >= 2:
        th, tw = h // kh * kh, w // kw * kw
        top, left = (h - th) // 2, (w - tw) // 2
        img = cv2.resize(np.ascontiguousarray(img[top:top + th, left:left + tw]), (tw // kw, th // kh),
                         interpolation=cv2.INTER_AREA)
    if img.shape[:2] != (out_h, out_w):
        img = cv2.resize(np.ascontiguousarray(img), (out_w, out_h), interpolation=cv2.INTER_AREA)
    return img


def make_preprocess(cfg: dict) -> Callable[[np.ndarray], torch.Tensor]:
    """uint8 frame (HxW grey, HxWx1 or HxWx3 RGB) -> normalised CxHxW tensor, as ``cfg`` says."""
    import cv2

    chans, size_h, size_w = (int(v) for v in cfg["input_size"])
    pad = int(cfg.get("pad", 0))
    inner_h, inner_w = size_h - 2 * pad, size_w - 2 * pad
    crop_pct, crop_mode = float(cfg.get("crop_pct", 1.0)), cfg.get("crop_mode", "center")
    interp = cv2.INTER_CUBIC if cfg.get("interpolation", "bicubic") == "bicubic" else cv2.INTER_LINEAR
    mean = torch.tensor(cfg["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(cfg["std"], dtype=torch.float32).view(-1, 1, 1)

    def preprocess(image: np.ndarray) -> torch.Tensor:
        img = np.asarray(image)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if crop_mode != "squash":
            img = center_crop(img, inner_h, inner_w, crop_pct)
        if chans == 1 and img.ndim == 3:
            img = cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY)
        elif chans == 3 and img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        elif chans == 3:
            img = img[:, :, :3]
        img = resize(img, inner_h, inner_w, interp)
        if pad:
            img = np.pad(img, ((pad, pad), (pad, pad)) + (((0, 0),) if img.ndim == 3 else ()))
        x = torch.from_numpy(np.ascontiguousarray(img).astype(np.float32) / 255.0)
        x = x[None] if x.ndim == 2 else x.permute(2, 0, 1)
        return (x - mean) / std

    return preprocess


def load_state_dict_safely(path: str | Path) -> dict[str, torch.Tensor]:
    """Read weights without unpickling arbitrary objects.

    safetensors, or a torch file read with ``weights_only=True`` holding a plain
    state dict or one under ``state_dict``/``model`` (as timm's train.py and most
    training loops save it); a DistributedDataParallel ``module.`` prefix is dropped.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError and friends
        raise CheckpointError(f"refusing to load {path}: not a plain tensor checkpoint ({exc})") from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a name->tensor state dict (plain, or under "
                              "'state_dict' or 'model')")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load strictly and say exactly which tensors are missing, unexpected or mis-shaped."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                  for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        if mismatched:
            parts.append(f"mismatched {mismatched[:5]}")
        raise CheckpointError(f"{source} does not fit the model: " + "; ".join(parts))
    model.load_state_dict(state)


def torch_device(spec: str) -> torch.device:
    """Parse 'cpu', 'cuda' or 'cuda:N' and check the device exists now, not mid-stream."""
    try:
        device = torch.device(spec)
    except RuntimeError as exc:
        raise ValueError(f"device {spec!r} is not a torch device (use cpu, cuda or cuda:N)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} asked for, but this torch ({torch.__version__}) sees no CUDA "
                             f"device; use device 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {spec!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif device.type != "cpu":
        raise ValueError(f"device {spec!r} is not supported (use cpu, cuda or cuda:N)")
    return device


def imagenet_classes() -> tuple[str, ...]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_description(i) for i in range(info.num_classes()))
