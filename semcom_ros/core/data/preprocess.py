"""Camera frames as a model's input: timm's data config applied to numpy frames.

Input size, interpolation, mean/std and crop as timm's evaluation transform,
plus two fields timm lacks for small grey models: one input channel means
grey, and ``pad`` zero-pads after resizing (Fashion-MNIST's 28 px items in a
32 px input). ``crop_mode: squash`` resizes the whole frame (no crop), as the
robot-view scene models see it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


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
