"""Frames from a camera device, a video file, an image folder, the embedded set or the robot-view shelf, without ROS.

The image_source node publishes these; tests and tools can iterate them directly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SOURCES = ("embedded", "scenes", "device", "video", "folder")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff")


class FrameSource:
    """Iterates frames (RGB or grey uint8) and labels (or None) from one of SOURCES.

    ``scenes`` pans at ``speed`` m/s and ``fps`` frames a second over ``size`` (width, height)
    frames; its label is None where no item is in the frame's central third.
    """

    def __init__(self, kind: str, path: str = "", device: int = 0, loop: bool = True, speed: float = 0.5,
                 fps: float = 10.0, size: tuple[int, int] = (640, 480)):
        import cv2

        self.kind, self.loop, self.index = kind, loop, 0
        self.class_names: tuple[str, ...] = ()
        self.cap = self.stream = None
        if kind == "scenes":            # the robot panning along a shelf of test garments: endless
            from .scene_sets import shelf_stream

            self.stream = shelf_stream(speed=speed, fps=fps, width=size[0], height=size[1])
            self.class_names = self.stream.garments.class_names
        elif kind == "embedded":
            from .datasets import load_embedded_eval

            data = load_embedded_eval()
            self.frames, self.labels, self.class_names = data.images, data.labels, data.class_names
        elif kind == "folder":
            files = sorted(p for p in Path(path).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise ValueError(f"no images in folder {path!r}")
            self.frames, self.labels = files, None
        elif kind in ("device", "video"):
            self.cap = cv2.VideoCapture(device if kind == "device" else path)
            if not self.cap.isOpened():
                raise ValueError(f"cannot open {kind} {device if kind == 'device' else path!r}")
        else:
            raise ValueError(f"unknown source {kind!r}; use one of {SOURCES}")

    def next(self) -> tuple[np.ndarray, int | None] | None:
        import cv2

        if self.cap is not None:
            ok, bgr = self.cap.read()
            if not ok and self.loop and self.kind == "video":
                self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = self.cap.read()
            return (cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None) if ok else None
        if self.stream is not None:
            self.index += 1
            return self.stream.frame(self.index - 1)
        if self.index >= len(self.frames):
            if not self.loop:
                return None
            self.index = 0
        i = self.index
        self.index += 1
        if self.kind == "folder":
            bgr = cv2.imread(str(self.frames[i]), cv2.IMREAD_COLOR)
            if bgr is None:
                raise ValueError(f"cannot read {self.frames[i]}")
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None
        return self.frames[i], int(self.labels[i])

    def close(self) -> None:
        if self.cap is not None:
            self.cap.release()


def camera_frame(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """A small item (an embedded-set image, grey or RGB) centred on a black RGB frame, scaled to fill its height.

    What a camera pointed at the item would deliver: tests, benchmarks and the
    stand-in camera driver send these at real frame sizes.
    """
    import cv2

    side = height
    item = cv2.resize(image, (side, side), interpolation=cv2.INTER_NEAREST)
    frame = np.zeros((height, width, 3), np.uint8)
    x0 = (width - side) // 2
    frame[:, x0:x0 + side] = item if item.ndim == 3 else item[:, :, None]
    return frame
