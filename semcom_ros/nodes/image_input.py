"""The camera-image subscription the camera and classifier nodes share.

Any camera driver's ``image`` (raw ``sensor_msgs/Image``) or, with
``image_transport: compressed``, ``image/compressed`` (``sensor_msgs/CompressedImage``,
image_transport's naming: jpeg, png, or an H.264/H.265 stream with ``format: h264``/``h265``,
decoded in order; frames not decodable yet are counted as ``frames_undecodable``);
always depth 1 so the newest frame wins;
reliability follows ``image_reliability`` so best-effort (sensor-data) and
reliable drivers both match. Frames skipped while busy are counted as
``frames_skipped``, frames that cannot be read as ``bad_images``.
"""
from __future__ import annotations

from sensor_msgs.msg import CompressedImage, Image

from .base import RELIABILITIES, SequenceGaps, guarded, image_qos
from .msg_convert import IMAGE_TRANSPORTS, MessageError, compressed_to_array, image_to_array
from .stage_times import StageTimes
from .video_transport import VIDEO_FORMATS, VideoReceiver


class ImageInput:
    """Mixin for a SemcomNode that classifies or encodes camera frames.

    Call ``declare_image_params`` once and ``subscribe_images`` when active;
    ``on_frame(frame, msg)`` then gets each readable frame (RGB or grey uint8).
    """

    image_sub = None

    def declare_image_params(self) -> None:
        self.param("image_transport", "raw", "raw: sensor_msgs/Image on 'image'; compressed: "
                   "sensor_msgs/CompressedImage (jpeg, png, or an h264/h265 stream) on 'image/compressed'",
                   choices=IMAGE_TRANSPORTS)
        self.param("image_reliability", "best_effort", "QoS reliability of the image subscription: best_effort "
                   "(sensor data, matches every driver) or reliable (only reliable drivers)", choices=RELIABILITIES)
        self.gaps = SequenceGaps()
        self.stages = StageTimes()
        self.video = VideoReceiver()

    def subscribe_images(self) -> None:
        """(Re)create the image subscription for the current transport and reliability; depth 1 always."""
        self.unsubscribe_images()
        qos = image_qos(self.p("image_reliability"))
        if self.p("image_transport") == "compressed":
            topic = self.resolve_topic_name("image") + "/compressed"    # image_transport: <base topic>/compressed
            self.image_sub = self.create_subscription(CompressedImage, topic, self.on_compressed, qos)
        else:
            self.image_sub = self.create_subscription(Image, "image", self.on_image, qos)
        self.gaps = SequenceGaps()

    def unsubscribe_images(self) -> None:
        if self.image_sub is not None:
            self.destroy_subscription(self.image_sub)
        self.image_sub = None

    def resubscribe_if_changed(self, names: set[str]) -> None:
        """After a parameter change: a new transport or reliability takes a new subscription."""
        if names & {"image_transport", "image_reliability"} and self.image_sub is not None:
            self.subscribe_images()
            self.get_logger().info(f"images from {self.image_sub.topic_name} ({self.p('image_transport')}, "
                                   f"{self.p('image_reliability')})")

    @guarded("processing_errors")
    def on_image(self, msg: Image, info) -> None:
        self._receive(msg, info, image_to_array)

    @guarded("processing_errors")
    def on_compressed(self, msg: CompressedImage, info) -> None:
        if msg.format.strip().lower() in VIDEO_FORMATS:
            self._receive(msg, info, self.video.frame)
        else:
            self._receive(msg, info, compressed_to_array)

    def _receive(self, msg, info, convert) -> None:
        self.stages.arrived(msg.header, info)
        self.counters["frames_in"] += 1
        self.counters["frames_skipped"] += self.gaps.see(info)
        try:
            frame = convert(msg)
        except MessageError as exc:
            self.count_error("bad_images", f"image dropped: {exc}")
            return
        if frame is None:                   # a video stream before its first decodable frame
            self.counters["frames_undecodable"] += 1
            return
        self.on_frame(frame, msg)

    def on_frame(self, frame, msg) -> None:
        raise NotImplementedError
