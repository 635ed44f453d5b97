"""A camera stream as a team would send it: H.264/H.265 through FFmpeg (PyAV), live settings.

What ``ffmpeg_image_transport`` and Foxglove's compressed-video transport do:
low-latency encoding (``tune=zerolatency``, no B-frames, so one packet per
frame, in order), an I-frame every ``gop`` frames, quality by CRF or a
bitrate. Bytes per frame are the real packets' sizes, parameter sets and
I-frames included. The decoder takes what arrived: a lost frame is not fed,
and FFmpeg's error concealment shows what a receiver shows until the next
I-frame repairs the picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

ENCODERS = {"h264": "libx264", "h265": "libx265"}
DECODERS = {"h264": "h264", "h265": "hevc"}


@dataclass(frozen=True)
class VideoSettings:
    codec: str = "h264"
    gop: int = 10              # frames from one I-frame to the next (1: every frame an I-frame)
    crf: int | None = 28       # constant quality (lower is better); None: use ``kbps``
    kbps: int | None = None    # target bitrate instead of CRF
    preset: str = "veryfast"
    fps: int = 10

    def __post_init__(self):
        if self.codec not in ENCODERS:
            raise ValueError(f"unknown video codec {self.codec!r}; use one of {', '.join(ENCODERS)}")
        if self.gop < 1:
            raise ValueError(f"gop must be >= 1, got {self.gop}")
        if (self.crf is None) == (self.kbps is None):
            raise ValueError("give a crf or a kbps, not both")

    @property
    def label(self) -> str:
        quality = f"crf{self.crf}" if self.crf is not None else f"{self.kbps}kbps"
        return f"{self.codec} gop{self.gop} {quality}"


@dataclass(frozen=True)
class VideoPacket:
    """One frame's coded bytes and whether it is an I-frame (decodable without earlier frames)."""

    data: bytes
    keyframe: bool


class VideoEncoder:
    """Frames (HxWx3 uint8 RGB, even sizes) in, one packet per frame out."""

    def __init__(self, settings: VideoSettings, width: int, height: int):
        import av

        if width % 2 or height % 2:
            raise ValueError(f"4:2:0 video needs even frame sizes, got {width}x{height}")
        self.settings, self.width, self.height = settings, int(width), int(height)
        ctx = av.CodecContext.create(ENCODERS[settings.codec], "w")
        ctx.width, ctx.height, ctx.pix_fmt = self.width, self.height, "yuv420p"
        ctx.time_base = Fraction(1, settings.fps)
        ctx.framerate = settings.fps
        ctx.gop_size = settings.gop
        ctx.max_b_frames = 0
        opts = {"preset": settings.preset, "tune": "zerolatency"}
        if settings.codec == "h264":
            opts.update({"bf": "0", "keyint_min": str(settings.gop), "sc_threshold": "0"})
        else:
            opts["x265-params"] = (f"bframes=0:keyint={settings.gop}:min-keyint={settings.gop}:scenecut=0:"
                                   "log-level=error")
        if settings.crf is not None:
            opts["crf"] = str(settings.crf)
        else:
            ctx.bit_rate = int(settings.kbps) * 1000
        ctx.options = opts
        self.ctx, self.count = ctx, 0

    def encode(self, frame: np.ndarray) -> VideoPacket:
        import av

        frame = np.asarray(frame)
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected a {self.height}x{self.width}x3 uint8 frame, got {frame.shape} {frame.dtype}")
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24").reformat(format="yuv420p")
        vf.pts = self.count
        key = self.count % self.settings.gop == 0
        vf.pict_type = av.video.frame.PictureType.I if key else av.video.frame.PictureType.NONE
        self.count += 1
        packets = self.ctx.encode(vf)
        if len(packets) != 1:
            raise RuntimeError(f"expected one packet per frame from a zero-latency encoder, got {len(packets)}")
        return VideoPacket(bytes(packets[0]), bool(packets[0].is_keyframe))


class VideoDecoder:
    """Packets as they arrive (None: lost) in, the picture the receiver has after each out."""

    def __init__(self, codec: str = "h264"):
        import av

        if codec not in DECODERS:
            raise ValueError(f"unknown video codec {codec!r}; use one of {', '.join(DECODERS)}")
        self.ctx = av.CodecContext.create(DECODERS[codec], "r")
        self.ctx.thread_type = "NONE"          # one frame in, one frame out: no frame-threading delay
        self.errors = 0

    def decode(self, data: bytes | None) -> np.ndarray | None:
        """The decoded frame (HxWx3 RGB), or None when nothing decodable has arrived for it."""
        import av

        if data is None:
            return None
        try:
            frames = self.ctx.decode(av.Packet(data))
        except av.error.FFmpegError:
            self.errors += 1
            return None
        return frames[-1].to_ndarray(format="rgb24") if frames else None


def encode_stream(frames, settings: VideoSettings) -> list[VideoPacket]:
    frames = list(frames)
    h, w = frames[0].shape[:2]
    enc = VideoEncoder(settings, w, h)
    return [enc.encode(f) for f in frames]


def decode_stream(packets: list[VideoPacket], arrived: list[bool], codec: str = "h264") -> list[np.ndarray | None]:
    """What the receiver shows for each frame when only the ``arrived`` ones reach the decoder."""
    dec = VideoDecoder(codec)
    return [dec.decode(p.data if ok else None) for p, ok in zip(packets, arrived, strict=True)]
