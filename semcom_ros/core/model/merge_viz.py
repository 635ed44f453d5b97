"""Draw which patches each surviving token holds: every group filled with its mean colour."""
from __future__ import annotations

import numpy as np


def render_partition(image: np.ndarray, source: np.ndarray, grid: tuple[int, int], cell: int = 16) -> np.ndarray:
    """``source`` (tokens, patches) one-hot map -> RGB image of the token partition over the frame."""
    import cv2

    gh, gw = grid
    if source.shape[1] != gh * gw:
        raise ValueError(f"source map covers {source.shape[1]} patches, grid {gh}x{gw} has {gh * gw}")
    img = np.asarray(image, dtype=np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = cv2.resize(img[:, :, :3], (gw * cell, gh * cell), interpolation=cv2.INTER_AREA)
    group = source.argmax(axis=0).reshape(gh, gw)
    pix = np.repeat(np.repeat(group, cell, axis=0), cell, axis=1)
    n = int(group.max()) + 1
    counts = np.bincount(pix.ravel(), minlength=n).clip(min=1)
    means = np.stack([np.bincount(pix.ravel(), weights=img[:, :, c].ravel().astype(np.float64), minlength=n)
                      for c in range(3)], axis=1) / counts[:, None]
    out = means[pix].astype(np.uint8)
    edge = np.zeros(pix.shape, dtype=bool)
    edge[:, 1:] |= pix[:, 1:] != pix[:, :-1]
    edge[1:, :] |= pix[1:, :] != pix[:-1, :]
    out[edge] = (255, 255, 255)
    return out
