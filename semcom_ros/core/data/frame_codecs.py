"""Image files as a camera pipeline sends them (JPEG, WebP, PNG through OpenCV), headers included.

Headers count: a real link carries them, and at 28x28 a JPEG's tables are most
of the file. (OpenCV's JPEG 2000 encoder refuses frames this small.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Codec:
    name: str
    extension: str
    quality_flag: str | None      # cv2.IMWRITE_* constant of the quality setting (None: lossless)


CODECS = {c.name: c for c in (Codec("jpeg", ".jpg", "IMWRITE_JPEG_QUALITY"),
                              Codec("webp", ".webp", "IMWRITE_WEBP_QUALITY"),
                              Codec("png", ".png", None))}


def encode(image: np.ndarray, codec: str, quality: int | None = None) -> bytes:
    """uint8 HxW (grey) or HxWx3 (RGB) -> the file's bytes. ``quality`` 1..100 where the codec has one."""
    import cv2

    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; use one of {', '.join(CODECS)}")
    c = CODECS[codec]
    image = np.ascontiguousarray(image, dtype=np.uint8)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    params = []
    if c.quality_flag is not None and quality is not None:
        if not 1 <= quality <= 100:
            raise ValueError(f"quality must lie in 1..100, got {quality}")
        params = [getattr(cv2, c.quality_flag), int(quality)]
    ok, buf = cv2.imencode(c.extension, bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {image.shape} image as {codec}")
    return buf.tobytes()


def decode(data: bytes, grey: bool) -> np.ndarray:
    """The file's bytes -> uint8 HxW (grey) or HxWx3 RGB, as the server would feed its model."""
    import cv2

    arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if arr is None:
        raise ValueError(f"cannot decode {len(data)} bytes")
    return arr if grey else cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
