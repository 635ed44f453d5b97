"""Camera frames as an H.264/H.265 stream in ``sensor_msgs/CompressedImage`` (``format: h264``).

What ``ffmpeg_image_transport`` sends, in the standard message type where its
own message package is not installed: one coded frame (an access unit, Annex B)
per message, in order, an I-frame every ``gop`` frames. A receiver decodes
statefully: frames before the first I-frame, or lost ones, leave it showing
what FFmpeg's error concealment makes of the stream until the next I-frame.
"""
from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CompressedImage

from ..core.data.video_codec import DECODERS, VideoDecoder, VideoEncoder, VideoSettings
from .msg_convert import MessageError

VIDEO_FORMATS = tuple(DECODERS)          # h264, h265


class VideoSender:
    """Encodes frames of any (even) size into CompressedImage messages; a new size starts a new stream."""

    def __init__(self, settings: VideoSettings):
        self.settings, self.encoder = settings, None

    def message(self, frame: np.ndarray, header=None) -> CompressedImage:
        frame = np.asarray(frame)
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        h, w = frame.shape[:2] if frame.shape[0] % 2 == 0 and frame.shape[1] % 2 == 0 else \
            (frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2)
        frame = np.ascontiguousarray(frame[:h, :w, :3])
        if self.encoder is None or (self.encoder.height, self.encoder.width) != (h, w):
            self.encoder = VideoEncoder(self.settings, w, h)
        msg = CompressedImage()
        if header is not None:
            msg.header = header
        msg.format = self.settings.codec
        msg.data = self.encoder.encode(frame).data
        return msg


class VideoReceiver:
    """Decodes video CompressedImage messages in arrival order, one decoder per codec."""

    def __init__(self):
        self.decoders: dict[str, VideoDecoder] = {}

    def frame(self, msg: CompressedImage) -> np.ndarray | None:
        """The picture after this message (RGB), or None while nothing decodable has arrived."""
        fmt = msg.format.strip().lower()
        if fmt not in VIDEO_FORMATS:
            raise MessageError(f"not a video format: {msg.format!r} (video formats: {', '.join(VIDEO_FORMATS)})")
        if len(msg.data) == 0:
            raise MessageError("video message has no data")
        decoder = self.decoders.setdefault(fmt, VideoDecoder(fmt))
        return decoder.decode(bytes(msg.data))
