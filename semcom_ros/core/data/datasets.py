"""Image sets the project runs on without network access.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` package (for
training); a few thousand of its test images ship inside this package as
``data/fmnist_eval.npz`` so demos and tests need nothing installed.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

FASHION_MNIST_DIR = Path(os.environ.get("SEMCOM_FMNIST_DIR", "/usr/share/datasets/fashion-mnist"))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
EMBEDDED_EVAL_FILE = "fmnist_eval.npz"


@dataclass(frozen=True)
class ImageSet:
    """Images as uint8 HxW (grey) or HxWx3 (RGB) arrays, with integer labels."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> "ImageSet":
        if n is None or n >= len(self):
            return self
        return ImageSet(self.images[:n], self.labels[:n], self.class_names)

    def relabel(self, class_names: tuple[str, ...]) -> "ImageSet":
        """Labels as indices into ``class_names`` (a model's), matched by name."""
        if tuple(class_names) == self.class_names:
            return self
        unknown = [n for n in self.class_names if n not in class_names]
        if unknown:
            raise ValueError(f"image classes {unknown[:5]} are not among the model's classes "
                             f"({', '.join(class_names[:10])}{' ...' if len(class_names) > 10 else ''})")
        index = np.array([class_names.index(n) for n in self.class_names], dtype=np.int64)
        return ImageSet(self.images, index[self.labels], tuple(class_names))


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (the MNIST container format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path}: too short to be an IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def load_fashion_mnist(split: str, root: Path = FASHION_MNIST_DIR) -> ImageSet:
    """The full Debian copy of Fashion-MNIST; ``split`` is 'train' or 't10k'."""
    if split not in ("train", "t10k"):
        raise ValueError(f"unknown split {split!r}; use 'train' or 't10k'")
    img_path = root / f"{split}-images-idx3-ubyte.gz"
    lbl_path = root / f"{split}-labels-idx1-ubyte.gz"
    if not img_path.exists():
        raise FileNotFoundError(
            f"{img_path} not found: install Debian's dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or set SEMCOM_FMNIST_DIR")
    images, labels = _read_idx(img_path), _read_idx(lbl_path)
    if len(images) != len(labels):
        raise ValueError(f"{root}: {len(images)} images but {len(labels)} labels")
    return ImageSet(images, labels.astype(np.int64), FASHION_MNIST_CLASSES)


def load_embedded_eval() -> ImageSet:
    """Fashion-MNIST test images shipped with the package (never used for training)."""
    ref = resources.files("semcom_ros") / "data" / EMBEDDED_EVAL_FILE
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as npz:
        return ImageSet(npz["images"], npz["labels"].astype(np.int64), FASHION_MNIST_CLASSES)


def load_image_folder(root: str | Path, limit: int | None = None) -> ImageSet:
    """An ImageFolder tree (root/<class>/<image>): classes are sorted folder names."""
    import cv2

    root = Path(root)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{root}: no class sub-folders")
    images, labels = [], []
    for idx, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            img = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if img is None:
                continue
            images.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            labels.append(idx)
    if not images:
        raise ValueError(f"{root}: no readable images")
    order = np.random.default_rng(0).permutation(len(images))[:limit]
    held = np.empty(len(order), dtype=object)       # one array per image: sizes may differ
    for k, i in enumerate(order):
        held[k] = images[i]
    return ImageSet(held, np.asarray(labels)[order], tuple(classes))
