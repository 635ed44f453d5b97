"""One way to name a classifier everywhere: the embedded default or any timm ViT.

``load_model("default")`` gives the Fashion-MNIST ViT shipped with the
package; any other name goes to ``timm.create_model`` (``pretrained=True``
needs a model hub, a local ``checkpoint`` does not). Every model comes with
its preprocessing and class names so callers can feed camera frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .datasets import FASHION_MNIST_CLASSES

DEFAULT_MODEL = "default"
DEFAULT_WEIGHTS = "fmnist_vit.safetensors"
# Architecture of the embedded model: 32x32 grey input, 4x4 patches -> 64 tokens + class token.
DEFAULT_ARCH = dict(img_size=32, patch_size=4, in_chans=1, num_classes=10,
                    embed_dim=128, depth=6, num_heads=4, mlp_ratio=4.0)
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded safely or does not fit the model."""


@dataclass
class LoadedModel:
    name: str
    model: torch.nn.Module
    preprocess: Callable[[np.ndarray], torch.Tensor]   # uint8 HxW[xC] -> CxHxW float
    class_names: tuple[str, ...]


def build_default_vit() -> torch.nn.Module:
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(**DEFAULT_ARCH)


def center_square(img: np.ndarray) -> np.ndarray:
    """The largest centred square: camera frames are 4:3 or 16:9, models see squares, nothing is squashed."""
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return img[top:top + side, left:left + side]


def fmnist_preprocess(image: np.ndarray) -> torch.Tensor:
    """Any uint8 image -> 1x32x32 normalised tensor, as the default model was trained.

    Colour becomes grey, a non-square frame is centre-cropped to a square (the
    aspect ratio is kept), then resized to 28x28 and zero-padded to 32x32.
    """
    import cv2

    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    img = center_square(img)
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY)
    if img.shape != (28, 28):
        img = cv2.resize(img, (28, 28), interpolation=cv2.INTER_AREA)
    img = np.pad(img, 2)
    x = torch.from_numpy(img.astype(np.float32) / 255.0)
    return ((x - FMNIST_MEAN) / FMNIST_STD).unsqueeze(0)


def _timm_preprocess(model: torch.nn.Module) -> Callable[[np.ndarray], torch.Tensor]:
    """timm's evaluation transform on numpy frames: keep the aspect ratio, resize, centre crop.

    As timm's ``crop_mode='center'``: the shorter side goes to ``size / crop_pct``
    and the centre ``size`` is cut out; ``crop_mode='squash'`` resizes straight to
    ``size`` (the model's data config decides).
    """
    import cv2

    cfg = getattr(model, "pretrained_cfg", {}) or {}
    size = tuple(cfg.get("input_size", (3, 224, 224))[1:])
    crop_pct = float(cfg.get("crop_pct") or 0.875)
    crop_mode = cfg.get("crop_mode") or "center"
    interp = cv2.INTER_CUBIC if cfg.get("interpolation", "bicubic") == "bicubic" else cv2.INTER_LINEAR
    mean = torch.tensor(cfg.get("mean", (0.485, 0.456, 0.406))).view(3, 1, 1)
    std = torch.tensor(cfg.get("std", (0.229, 0.224, 0.225))).view(3, 1, 1)

    def preprocess(image: np.ndarray) -> torch.Tensor:
        img = np.asarray(image)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        img = np.ascontiguousarray(img[:, :, :3])
        if crop_mode == "squash":
            img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        else:
            h, w = img.shape[:2]
            scale = max(size) / crop_pct / min(h, w)
            rw, rh = max(size[1], round(w * scale)), max(size[0], round(h * scale))
            img = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_AREA if scale < 1 else interp)
            top, left = (rh - size[0]) // 2, (rw - size[1]) // 2
            img = img[top:top + size[0], left:left + size[1]]
        x = torch.from_numpy(np.ascontiguousarray(img).astype(np.float32) / 255.0).permute(2, 0, 1)
        return (x - mean) / std

    return preprocess


def load_state_dict_safely(path: str | Path) -> dict[str, torch.Tensor]:
    """Read weights without unpickling arbitrary objects."""
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
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a flat name->tensor state dict")
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


def default_weights_path() -> Path:
    return Path(str(resources.files("semcom_ros") / "weights" / DEFAULT_WEIGHTS))


def load_model(name: str = DEFAULT_MODEL, pretrained: bool = False,
               checkpoint: str | Path | None = None) -> LoadedModel:
    """Build a model by name, in eval mode, with its preprocessing and class names."""
    if name == DEFAULT_MODEL:
        model = build_default_vit()
        path = Path(checkpoint) if checkpoint else default_weights_path()
        load_weights(model, load_state_dict_safely(path), str(path))
        return LoadedModel(name, model.eval(), fmnist_preprocess, FASHION_MNIST_CLASSES)
    import timm

    try:
        model = timm.create_model(name, pretrained=pretrained)
    except RuntimeError as exc:
        raise ValueError(f"unknown model {name!r}: {exc}") from exc
    if checkpoint:
        load_weights(model, load_state_dict_safely(checkpoint), str(checkpoint))
    classes = _imagenet_classes() if getattr(model, "num_classes", 0) == 1000 else tuple(
        str(i) for i in range(getattr(model, "num_classes", 0)))
    return LoadedModel(name, model.eval(), _timm_preprocess(model), classes)


def _imagenet_classes() -> tuple[str, ...]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_description(i) for i in range(info.num_classes()))
