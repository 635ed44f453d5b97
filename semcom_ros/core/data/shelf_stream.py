"""A robot panning along a shelf: consecutive camera frames that overlap (METHOD §9, stream).

Items sit on a long shelf strip; the camera window moves ``speed`` m/s at
``fps`` frames a second, 1 m being one frame width at the default distance.
A frame's label is the item nearest its centre when that item's centre lies
in the frame's central third, else None (not scored). The strip is laid out
in segments drawn from (seed, segment), so any frame can be rendered alone.
"""
from __future__ import annotations

import numpy as np

from .backgrounds import Background, light_gradient
from .datasets import ImageSet
from .scenes import HEIGHT_RANGE, MAX_ANGLE_DEG, MAX_BLUR_PX, Item, camera_effects, paste, random_colour, render_item

SEGMENT = 0.5                 # one shelf item every half frame width, on average
OFF_ROW_PROBABILITY = 0.5     # a second item above or below the row in a segment


class ShelfStream:
    """Frame ``t`` (0, 1, 2, ...) of the pan and its label; the same for the same arguments."""

    def __init__(self, garments: ImageSet, seed: int = 0, speed: float = 0.5, fps: float = 10.0,
                 width: int = 640, height: int = 480):
        if len(garments) == 0:
            raise ValueError("a shelf stream needs at least one garment image")
        if not (np.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed must be a finite number >= 0 m/s, got {speed}")
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be > 0, got {fps}")
        self.garments, self.seed = garments, int(seed)
        self.speed, self.fps, self.width, self.height = float(speed), float(fps), int(width), int(height)
        self.segment = SEGMENT * self.width
        self._strip = Background(self.width, self.height).strip(np.random.default_rng([self.seed, 0]), self.width)
        self._light = light_gradient(np.random.default_rng([self.seed, 1]), self.width, self.height)

    def offset(self, t: int) -> float:
        """The left edge of frame ``t`` on the strip, in pixels."""
        return t * self.speed * self.width / self.fps

    def items(self, segment: int) -> list[Item]:
        """The items of one strip segment (centres in strip pixels)."""
        rng = np.random.default_rng([self.seed, 2, segment % 2**32])
        h, n = self.height, len(self.garments)
        out = []
        rows = [rng.uniform(h / 3, 2 * h / 3)]
        if rng.uniform() < OFF_ROW_PROBABILITY:
            rows.append(rng.choice([rng.uniform(0.05, 0.25), rng.uniform(0.75, 0.95)]) * h)
        for cy in rows:
            g = int(rng.integers(n))
            cx = (segment + rng.uniform(0.1, 0.9)) * self.segment
            out.append(Item(g, int(self.garments.labels[g]), cx, cy, rng.uniform(*HEIGHT_RANGE) * h,
                            rng.uniform(-MAX_ANGLE_DEG, MAX_ANGLE_DEG), random_colour(rng)))
        return out

    def visible(self, t: int) -> list[Item]:
        """Items whose box reaches into frame ``t``, in strip coordinates."""
        x0 = self.offset(t)
        reach = HEIGHT_RANGE[1] * self.height
        first = int(np.floor((x0 - reach) / self.segment))
        last = int(np.floor((x0 + self.width + reach) / self.segment))
        return [it for s in range(first, last + 1) for it in self.items(s)
                if x0 - it.height < it.cx < x0 + self.width + it.height]

    def label(self, t: int) -> int | None:
        """The class of the item nearest the frame centre, if its centre is in the central third."""
        return self._label(t, self.visible(t))

    def _label(self, t: int, items: list[Item]) -> int | None:
        cx, cy = self.offset(t) + self.width / 2, self.height / 2
        if not items:
            return None
        near = min(items, key=lambda it: np.hypot(it.cx - cx, it.cy - cy))
        inside = abs(near.cx - cx) <= self.width / 6 and abs(near.cy - cy) <= self.height / 6
        return near.label if inside else None

    def background(self, t: int) -> np.ndarray:
        period = self._strip.shape[1]
        cols = (int(round(self.offset(t))) + np.arange(self.width)) % period
        return self._strip[:, cols]

    def frame(self, t: int) -> tuple[np.ndarray, int | None]:
        """Frame ``t`` as HxWx3 uint8 RGB and its label (None: no item in the central third)."""
        x0 = int(round(self.offset(t)))
        frame = np.ascontiguousarray(self.background(t))
        items = self.visible(t)
        for it in items:
            patch, alpha, px, py = render_item(self.garments.images[it.garment], it)
            paste(frame, patch, alpha, px - x0, py)
        frame *= self._light[:, :, None]
        pan_px = min(MAX_BLUR_PX, self.speed * self.width / self.fps / 8)   # shutter open ~1/8 of the frame time
        rng = np.random.default_rng([self.seed, 3, t])
        return camera_effects(frame, rng, blur_px=pan_px, blur_angle=0.0), self._label(t, items)
