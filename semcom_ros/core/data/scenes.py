"""Robot-view scenes: Fashion-MNIST garments among others on textured backgrounds.

What a service robot's camera sees when it looks for an item (METHOD §9): a
target near the centre, 0-4 distractors farther out, tinted items at a
distance that sets their size, a texture or shelf behind them, uneven light,
sensor noise and sometimes motion blur. Everything is drawn from a seed, so
scene ``i`` of a generator is the same image on every machine. The choices
below are METHOD §9's and were fixed before any model was trained on them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .backgrounds import Background, light_gradient
from .datasets import ImageSet

MASK_LEVEL = 12               # garment pixels above this grey level form its mask
HEIGHT_RANGE = (0.20, 0.45)   # item height as a fraction of the frame height
MAX_ANGLE_DEG = 15.0
MAX_DISTRACTORS = 4
DISTRACTOR_GAP = 0.25         # distractor centres farther out than the target's by this x frame height
MAX_COVER = 0.30              # at most this fraction of the target's mask may be covered
NOISE_SIGMA = (2.0, 8.0)      # grey levels
BLUR_PROBABILITY, MAX_BLUR_PX = 1 / 3, 7


@dataclass(frozen=True)
class Item:
    """One garment in a scene: its index in the garment set, class and placement in pixels."""

    garment: int
    label: int
    cx: float
    cy: float
    height: float
    angle: float
    colour: tuple[float, float, float]


@dataclass(frozen=True)
class Scene:
    """A camera frame (HxWx3 uint8 RGB), its label (the target's class) and what is in it."""

    image: np.ndarray
    label: int
    target: Item
    distractors: tuple[Item, ...]
    covered: float            # fraction of the target's mask hidden by distractors


def random_colour(rng: np.random.Generator) -> tuple[float, float, float]:
    """A saturated-to-pale colour from a random hue: colour carries no class."""
    import colorsys

    return colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.25, 1.0), rng.uniform(0.55, 1.0))


def render_item(garment: np.ndarray, item: Item) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The tinted, scaled, rotated garment as (RGB float patch, alpha in [0, 1], x0, y0 in the frame)."""
    import cv2

    side = int(np.ceil(item.height * 1.42)) + 2          # room for a 45-degree turn
    scale = item.height / garment.shape[0]
    gc = ((garment.shape[1] - 1) / 2, (garment.shape[0] - 1) / 2)   # pixel centres: 13.5 in a 28 px image
    m = cv2.getRotationMatrix2D(gc, item.angle, scale)
    m[:, 2] += ((side - 1) / 2 - gc[0], (side - 1) / 2 - gc[1])
    grey = cv2.warpAffine(garment.astype(np.float32), m, (side, side), flags=cv2.INTER_LINEAR)
    alpha = np.clip((grey - MASK_LEVEL / 2) / MASK_LEVEL, 0.0, 1.0)
    shade = 0.25 + 0.75 * grey / 255.0
    patch = shade[:, :, None] * (np.asarray(item.colour, np.float32) * 255.0)
    return patch, alpha, int(round(item.cx - (side - 1) / 2)), int(round(item.cy - (side - 1) / 2))


def placed(alpha: np.ndarray, x0: int, y0: int, h: int, w: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Where a patch at (x0, y0) lands in an h x w frame, and which part of the patch does."""
    ys, xs = slice(max(0, y0), min(h, y0 + alpha.shape[0])), slice(max(0, x0), min(w, x0 + alpha.shape[1]))
    if ys.start >= ys.stop or xs.start >= xs.stop:
        ys = xs = slice(0, 0)
    return (ys, xs), (slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0))


def paste(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend a patch into a float frame in place (parts outside the frame are cut)."""
    (ys, xs), (py, px) = placed(alpha, x0, y0, *frame.shape[:2])
    if ys.stop > ys.start and xs.stop > xs.start:
        a = alpha[py, px, None]
        frame[ys, xs] = frame[ys, xs] * (1.0 - a) + patch[py, px] * a


def mask_in_frame(alpha: np.ndarray, x0: int, y0: int, h: int, w: int) -> np.ndarray:
    """The patch's mask (alpha > 0.5) as a boolean h x w frame."""
    mask = np.zeros((h, w), bool)
    (ys, xs), (py, px) = placed(alpha, x0, y0, h, w)
    mask[ys, xs] = alpha[py, px] > 0.5
    return mask


@lru_cache(maxsize=4)
def _noise_bank(shape: tuple[int, ...]) -> np.ndarray:
    """Unit Gaussian noise twice a frame's size, drawn once per frame size."""
    h, w = shape[:2]
    return np.random.default_rng(12345).standard_normal((2 * h, 2 * w) + shape[2:], dtype=np.float32)


def noise_field(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Unit sensor noise for one frame: a random window of the bank, randomly flipped.

    Drawing ~10^6 normals per frame was the generator's largest cost; windows
    of one bank are as white within a frame and cost a copy.
    """
    bank = _noise_bank(tuple(shape))
    h, w = shape[:2]
    y0, x0 = int(rng.integers(h)), int(rng.integers(w))
    win = bank[y0:y0 + h, x0:x0 + w]
    return win[::-1] if rng.uniform() < 0.5 else win


def camera_effects(frame: np.ndarray, rng: np.random.Generator, blur_px: float | None = None,
                   blur_angle: float | None = None) -> np.ndarray:
    """Sensor noise and (on a third of frames, or as given) motion blur; float frame -> uint8."""
    import cv2

    if blur_px is None:
        blur_px = rng.uniform(2, MAX_BLUR_PX) if rng.uniform() < BLUR_PROBABILITY else 0.0
        blur_angle = rng.uniform(0, 180)
    if blur_px >= 1.5:
        k = int(round(blur_px)) | 1
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(blur_angle or 0.0), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        frame = cv2.filter2D(frame, -1, kernel / max(kernel.sum(), 1e-6))
    frame += noise_field(frame.shape, rng) * np.float32(rng.uniform(*NOISE_SIGMA))
    return cv2.convertScaleAbs(np.maximum(frame, 0))   # rounds and saturates at 255


class SceneGenerator:
    """Scene ``i`` for ``i`` in 0, 1, 2, ...: the same image for the same (garments, seed, size, i).

    ``garments`` decides the split: build training scenes from Fashion-MNIST's
    training images and evaluation scenes from its test images (``scene_garments``).
    """

    def __init__(self, garments: ImageSet, seed: int = 0, width: int = 640, height: int = 480):
        if len(garments) == 0:
            raise ValueError("a scene generator needs at least one garment image")
        self.garments, self.seed, self.width, self.height = garments, int(seed), int(width), int(height)
        self.background = Background(width, height)

    def __len__(self) -> int:
        return len(self.garments)

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(index)])

    def _item(self, rng: np.random.Generator, garment: int, cx: float, cy: float) -> Item:
        return Item(garment, int(self.garments.labels[garment]), cx, cy,
                    rng.uniform(*HEIGHT_RANGE) * self.height, rng.uniform(-MAX_ANGLE_DEG, MAX_ANGLE_DEG),
                    random_colour(rng))

    def layout(self, index: int, rng: np.random.Generator) -> tuple[Item, list[Item]]:
        """The target in the central third, distractors farther from the centre by the gap."""
        w, h = self.width, self.height
        n = len(self.garments)
        target_garment = index % n          # every garment is a target once per pass
        target = self._item(rng, target_garment, rng.uniform(w / 3, 2 * w / 3), rng.uniform(h / 3, 2 * h / 3))
        d_target = np.hypot(target.cx - w / 2, target.cy - h / 2)
        distractors = []
        for _ in range(int(rng.integers(0, MAX_DISTRACTORS + 1))):
            for _try in range(20):
                cx, cy = rng.uniform(0, w), rng.uniform(0, h)
                if np.hypot(cx - w / 2, cy - h / 2) >= d_target + DISTRACTOR_GAP * h:
                    distractors.append(self._item(rng, int(rng.integers(n)), cx, cy))
                    break
        return target, distractors

    def scene(self, index: int) -> Scene:
        rng = self.rng(index)
        h, w = self.height, self.width
        frame = self.background.sample(rng)
        target, distractors = self.layout(index, rng)
        in_front = [rng.uniform() < 0.5 for _ in distractors]
        for d, front in zip(distractors, in_front):
            if not front:
                paste(frame, *render_item(self.garments.images[d.garment], d))
        patch, alpha, x0, y0 = render_item(self.garments.images[target.garment], target)
        paste(frame, patch, alpha, x0, y0)
        target_mask = mask_in_frame(alpha, x0, y0, h, w)
        area = max(int(target_mask.sum()), 1)
        hidden = np.zeros_like(target_mask)
        kept = [d for d, front in zip(distractors, in_front) if not front]
        for d, front in zip(distractors, in_front):
            if not front:
                continue
            patch, alpha, x0, y0 = render_item(self.garments.images[d.garment], d)
            cover = hidden | (mask_in_frame(alpha, x0, y0, h, w) & target_mask)
            if cover.sum() / area > MAX_COVER:
                continue                     # would hide too much of the target: leave it out
            hidden = cover
            paste(frame, patch, alpha, x0, y0)
            kept.append(d)
        frame *= light_gradient(rng, w, h)[:, :, None]
        image = camera_effects(frame, rng)
        return Scene(image, target.label, target, tuple(kept), float(hidden.sum() / area))

    def images(self, indices, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scenes as an N x H x W x 3 array (optionally resized, width x height) and their labels."""
        import cv2

        frames, labels = [], []
        for i in indices:
            s = self.scene(int(i))
            frames.append(s.image if size is None else cv2.resize(s.image, size, interpolation=cv2.INTER_AREA))
            labels.append(s.label)
        return np.stack(frames), np.asarray(labels, np.int64)
