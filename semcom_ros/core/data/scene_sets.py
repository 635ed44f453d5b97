"""The built-in task's scene sets: which garments, which seeds, what size the model sees.

Training scenes use only Fashion-MNIST's training images (Debian's copy);
evaluation scenes only its test images shipped with the package. The seeds
differ too, so no evaluation scene is a training scene with another item.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .datasets import ImageSet, load_embedded_eval, load_fashion_mnist
from .scenes import SceneGenerator
from .shelf_stream import ShelfStream

TRAIN_SEED, EVAL_SEED, STREAM_SEED = 20261205, 7, 11
FRAME = (640, 480)            # width, height of the camera frames (METHOD §9)
SPLITS = ("train", "eval")


def scene_garments(split: str) -> ImageSet:
    """Garments for one split: 'train' (60 000 training images) or 'eval' (3 000 embedded test images)."""
    if split == "train":
        return load_fashion_mnist("train")
    if split == "eval":
        return load_embedded_eval()
    raise ValueError(f"unknown scene split {split!r}; use one of {SPLITS}")


def scene_generator(split: str, width: int = FRAME[0], height: int = FRAME[1]) -> SceneGenerator:
    return SceneGenerator(scene_garments(split), seed=TRAIN_SEED if split == "train" else EVAL_SEED,
                          width=width, height=height)


def shelf_stream(speed: float = 0.5, fps: float = 10.0, seed: int = STREAM_SEED,
                 width: int = FRAME[0], height: int = FRAME[1]) -> ShelfStream:
    """The evaluation shelf (test garments only) panned at ``speed`` m/s."""
    return ShelfStream(scene_garments("eval"), seed=seed, speed=speed, fps=fps, width=width, height=height)


def model_view(frame: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """A camera frame as the camera node resizes it for a squash-mode model (uint8, before normalising)."""
    import cv2

    from .preprocess import resize

    return resize(frame, input_hw[0], input_hw[1], cv2.INTER_CUBIC)


def scene_images(split: str, n: int, input_hw: tuple[int, int] | None = None) -> ImageSet:
    """The first ``n`` scenes of a split as an image set: camera frames, or as a model of ``input_hw`` sees them.

    Camera frames are 640x480x3 (0.9 MB each); giving the model's input size
    renders each frame and keeps only what the camera node's resize makes of it,
    cached on disk (``cache_dir``), since every offline tool asks for the same scenes.
    """
    generator = scene_generator(split)
    if input_hw is None:
        frames = [generator.scene(i) for i in range(n)]
        return ImageSet(np.stack([s.image for s in frames]), np.asarray([s.label for s in frames], np.int64),
                        generator.garments.class_names)
    images, labels = cached_render(split, n, tuple(input_hw))
    return ImageSet(images, labels, generator.garments.class_names)


def cache_dir() -> Path | None:
    """Where rendered scene sets are kept: $SEMCOM_CACHE, else ~/.cache/semcom_ros; 'off' disables."""
    env = os.environ.get("SEMCOM_CACHE", "")
    if env.lower() == "off":
        return None
    return Path(env) if env else Path.home() / ".cache" / "semcom_ros"


def generator_version() -> str:
    """A digest of the code that draws scenes: a changed generator never reads an old cache."""
    from . import backgrounds, scenes

    digest = hashlib.sha256()
    for module in (scenes, backgrounds):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(repr((TRAIN_SEED, EVAL_SEED, FRAME)).encode())
    return digest.hexdigest()[:16]


def cached_render(split: str, n: int, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``render`` of the first ``n`` scenes of ``split``, read from the cache when it holds them."""
    folder = cache_dir()
    name = f"scenes_{split}_{n}_{input_hw[1]}x{input_hw[0]}_{generator_version()}.npz"
    path = None if folder is None else folder / name
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as npz:
            return npz["images"], npz["labels"]
    images, labels = render_parallel(split, n, input_hw)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, images=images, labels=labels)
            os.replace(tmp, path)
        except OSError:
            pass                 # a read-only home only costs the rendering next time
    return images, labels


def render_range(job: tuple[str, int, int, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Scenes start..stop-1 of a split at the model's view, for a worker process: (split, start, stop, hw)."""
    split, start, stop, input_hw = job
    return render(scene_generator(split), range(start, stop), input_hw)


def render_parallel(split: str, n: int, input_hw: tuple[int, int], chunk: int = 1000):
    """``render`` of scenes 0..n-1 on every CPU core (~17 ms a scene on one core), same result."""
    workers = min(os.cpu_count() or 1, -(-n // chunk))
    if workers < 2:
        return render(scene_generator(split), range(n), input_hw)
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(split, s, min(s + chunk, n), input_hw) for s in range(0, n, chunk)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(render_range, jobs))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def render(generator: SceneGenerator, indices, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Scenes ``indices`` as the model sees them (N x h x w x 3 uint8) and their labels."""
    frames, labels = [], []
    for i in indices:
        s = generator.scene(int(i))
        frames.append(model_view(s.image, input_hw))
        labels.append(s.label)
    return np.stack(frames), np.asarray(labels, np.int64)
