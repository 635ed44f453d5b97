"""What lies behind the items: texture photos, a shelf or a floor, and uneven light.

The photos are scikit-image's CC0 textures (brick, grass, gravel), shipped in
its wheel, so scenes need no download; shelves and floors are drawn.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

TEXTURES = ("brick", "grass", "gravel")
KINDS = TEXTURES + ("shelf", "floor")
ZOOM = (0.8, 2.0)             # frame pixels per texture pixel
BRIGHTNESS = (0.6, 1.2)
LIGHT = (0.6, 1.3)            # light gradient ends


@lru_cache(maxsize=None)
def texture(name: str) -> np.ndarray:
    """A texture photo mirrored into a seamless 2x tile (float32, grey levels)."""
    import skimage.data

    if name not in TEXTURES:
        raise ValueError(f"unknown texture {name!r}; use one of {TEXTURES}")
    grey = getattr(skimage.data, name)().astype(np.float32)
    top = np.concatenate([grey, grey[:, ::-1]], axis=1)
    return np.concatenate([top, top[::-1]], axis=0)


def light_gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth linear light falloff in a random direction (H x W factors)."""
    a, b = rng.uniform(*LIGHT, size=2)
    theta = rng.uniform(0, 2 * np.pi)
    diag = np.hypot(width, height)
    x = (np.arange(width, dtype=np.float32) - width / 2) * np.float32(np.cos(theta) / diag)
    y = (np.arange(height, dtype=np.float32) - height / 2) * np.float32(np.sin(theta) / diag)
    return np.float32(a) + np.float32(b - a) * (y[:, None] + x[None, :] + np.float32(0.5))


def _shelf(rng: np.random.Generator, width: int, height: int, x0: float = 0.0) -> np.ndarray:
    """Wooden shelving: grain along x, dark board edges at a few heights, lit top faces."""
    wood = np.array([rng.uniform(0.45, 0.75), rng.uniform(0.3, 0.5), rng.uniform(0.15, 0.3)], np.float32) * 255
    x = np.arange(width, dtype=np.float32) + x0
    grain = np.ones(width, np.float32)
    for _ in range(4):
        grain += rng.uniform(0.02, 0.08) * np.sin(2 * np.pi * x / rng.uniform(8, 120) + rng.uniform(0, 6.3))
    img = np.empty((height, width, 3), np.float32)
    img[:] = grain[None, :, None] * wood
    for y in np.sort(rng.uniform(0.05, 0.95, size=int(rng.integers(2, 4)))) * height:
        top, thick = int(y), max(2, int(rng.uniform(0.02, 0.05) * height))
        img[top:top + thick] *= 0.45
        img[max(0, top - 2):top] = np.minimum(img[max(0, top - 2):top] * 1.5, 255)
    return img


def _floor(rng: np.random.Generator, width: int, height: int, x0: float = 0.0) -> np.ndarray:
    """Square tiles in two tones with grout lines."""
    tile = rng.uniform(60, 160)
    tones = rng.uniform(60, 220, size=(2, 3)).astype(np.float32)
    x = np.arange(width, dtype=np.float32) + x0
    y = np.arange(height, dtype=np.float32)
    checker = (np.floor(y / tile)[:, None] + np.floor(x / tile)[None, :]).astype(np.int64) % 2
    img = tones[checker]
    grout = (np.mod(y, tile) < 3)[:, None] | (np.mod(x, tile) < 3)[None, :]
    img[grout] *= 0.5
    return img


class Background:
    """Random backgrounds of one frame size: a crop, zoom, flip and brightness of a texture, or a drawing."""

    def __init__(self, width: int, height: int):
        self.width, self.height = int(width), int(height)

    def sample(self, rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
        """An H x W x 3 float32 background (grey levels 0-255)."""
        import cv2

        kind = kind or KINDS[int(rng.integers(len(KINDS)))]
        w, h = self.width, self.height
        if kind == "shelf":
            return _shelf(rng, w, h)
        if kind == "floor":
            return _floor(rng, w, h)
        tex = texture(kind)
        zoom = rng.uniform(*ZOOM) * h / 480.0
        ch, cw = min(tex.shape[0], int(h / zoom)), min(tex.shape[1], int(w / zoom))
        top = int(rng.integers(0, tex.shape[0] - ch + 1))
        left = int(rng.integers(0, tex.shape[1] - cw + 1))
        crop = tex[top:top + ch, left:left + cw]
        if rng.uniform() < 0.5:
            crop = crop[:, ::-1]
        grey = cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=cv2.INTER_LINEAR)
        cast = rng.uniform(0.85, 1.15, size=3).astype(np.float32) * rng.uniform(*BRIGHTNESS)
        return grey[:, :, None] * cast

    def strip(self, rng: np.random.Generator, width: int) -> np.ndarray:
        """A background band and its mirror image: 2 x ``width`` columns whose right edge runs into the left."""
        band = Background(width, self.height).sample(rng)
        return np.concatenate([band, band[:, ::-1]], axis=1)
