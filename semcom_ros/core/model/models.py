"""Classifiers as a bundle describes them: a timm ViT by name and arguments, safe weights, its data config.

A model is ``timm.create_model(architecture, **kwargs)``; the built-in ones
are too (small ``vit_tiny`` variants). What a frame goes through before the
model is ``data/preprocess.py``.
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
    config: dict | None = None                         # the preprocessing config ``preprocess`` was made from


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
