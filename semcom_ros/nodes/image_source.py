"""image_source: publishes sensor_msgs/Image from a camera, a video, a folder, the embedded set or the shelf.

``source: scenes`` is a robot panning along a shelf of items at ``speed``
m/s, 640x480 by default (the built-in task, METHOD §9). With the embedded set
and the scenes it also publishes the true label of each labelled frame on
``ground_truth`` (DiagnosticArray, same header as the image).
With ``transport: compressed`` it publishes ``sensor_msgs/CompressedImage`` on
``image/compressed`` instead (image_transport's naming), jpeg or png.
"""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from sensor_msgs.msg import CompressedImage, Image

from ..core.data.frame_sources import SOURCES, FrameSource
from ..core.data.video_codec import VideoSettings
from .base import RELIABILITIES, RELIABLE, SemcomNode, guarded, image_qos
from .msg_convert import COMPRESSED_FORMATS, IMAGE_TRANSPORTS, array_to_compressed, array_to_image
from .process import run_node
from .video_transport import VIDEO_FORMATS, VideoSender


class ImageSourceNode(SemcomNode):
    source: FrameSource | None = None     # set before __init__ can fail, so teardown of a refused start works
    _video: VideoSender | None = None

    def __init__(self, **kwargs):
        super().__init__("image_source", **kwargs)
        self.param("source", "scenes", "where frames come from", choices=SOURCES)
        self.param("path", "", "video file or image folder (source=video|folder)")
        self.param("device", 0, "OpenCV camera index (source=device)", lo=0, hi=64)
        self.param("rate_hz", 5.0, "frames per second", lo=0.1, hi=120.0)
        self.param("speed", 0.5, "source=scenes: how fast the robot pans along the shelf (m/s; 1 m is about one "
                   "frame width)", lo=0.0, hi=5.0)
        self.param("width", 640, "source=scenes: frame width (px)", lo=64, hi=3840)
        self.param("height", 480, "source=scenes: frame height (px)", lo=48, hi=2160)
        self.param("loop", True, "start again at the end of a video, folder or set")
        self.param("frame_id", "camera", "header.frame_id of published images")
        self.param("max_frames", 0, "stop publishing after this many frames (0: never)", lo=0, hi=10**9)
        self.param("encoding", "rgb8", "encoding of colour frames (grey frames are mono8)", choices=("rgb8", "bgr8"))
        self.param("transport", "raw", "raw: Image on 'image'; compressed: CompressedImage on 'image/compressed'",
                   choices=IMAGE_TRANSPORTS)
        self.param("compressed_format", "jpeg", "transport=compressed: jpeg or png per frame, or an h264/h265 "
                   "stream (ffmpeg_image_transport's codecs in sensor_msgs/CompressedImage)",
                   choices=COMPRESSED_FORMATS + VIDEO_FORMATS)
        self.param("video_gop", 10, "h264/h265: frames from one I-frame to the next", lo=1, hi=600)
        self.param("video_crf", 28, "h264/h265: constant quality (lower is better and larger)", lo=0, hi=51)
        self.param("jpeg_quality", 90, "transport=compressed, jpeg: quality", lo=1, hi=100)
        self.param("reliability", "best_effort", "QoS reliability of the published frames (depth 1); best_effort "
                   "is the sensor-data profile every subscriber matches", choices=RELIABILITIES)
        self.truth_pub = self.create_publisher(DiagnosticArray, "ground_truth", RELIABLE)
        self.pub = None
        self.advertise()
        self.timer = None
        self._open()

    def advertise(self) -> None:
        if self.pub is not None:
            self.destroy_publisher(self.pub)
        qos = image_qos(self.p("reliability"))
        if self.p("transport") == "compressed":
            self.pub = self.create_publisher(CompressedImage, self.resolve_topic_name("image") + "/compressed", qos)
        else:
            self.pub = self.create_publisher(Image, "image", qos)

    def _open(self) -> None:
        if self.source is not None:
            self.source.close()
        size = (self.p("width"), self.p("height"))
        self.source = FrameSource(self.p("source"), self.p("path"), self.p("device"), self.p("loop"),
                                  speed=self.p("speed"), fps=self.p("rate_hz"), size=size)
        if self.timer is not None:
            self.destroy_timer(self.timer)
        self.timer = self.create_timer(1.0 / self.p("rate_hz"), self.tick)

    def validate_parameter(self, name, value):
        if name == "source" and value in ("video", "folder") and not self.p("path"):
            return f"source={value} needs the 'path' parameter first"
        return None

    def on_parameters_changed(self, names):
        if names & {"source", "path", "device", "loop", "rate_hz", "speed", "width", "height"}:
            self._open()
        if names & {"transport", "reliability"}:
            self.advertise()

    @guarded("source_errors")
    def tick(self) -> None:
        limit = self.p("max_frames")
        if limit and self.counters["frames_published"] >= limit:
            return
        item = self.source.next()
        if item is None:
            self.counters["end_of_source"] += 1
            return
        frame, label = item
        index = self.source.index - 1
        if self.p("transport") == "compressed" and self.p("compressed_format") in VIDEO_FORMATS:
            msg = self.video_sender().message(frame)
        elif self.p("transport") == "compressed":
            msg = array_to_compressed(frame, fmt=self.p("compressed_format"), quality=self.p("jpeg_quality"))
        elif frame.ndim == 3 and self.p("encoding") == "bgr8":
            msg = array_to_image(frame[:, :, ::-1], encoding="bgr8")
        else:
            msg = array_to_image(frame)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.p("frame_id")
        self.pub.publish(msg)
        self.counters["frames_published"] += 1
        if label is not None:
            status = DiagnosticStatus(name="ground_truth", message=self.source.class_names[label],
                                      values=[KeyValue(key="index", value=str(index)),
                                              KeyValue(key="class_id", value=str(label)),
                                              KeyValue(key="label", value=self.source.class_names[label])])
            truth = DiagnosticArray(status=[status])
            truth.header = msg.header
            self.truth_pub.publish(truth)

    def video_sender(self) -> VideoSender:
        """The stream's encoder; new settings start a new stream (with an I-frame)."""
        settings = VideoSettings(codec=self.p("compressed_format"), gop=self.p("video_gop"), crf=self.p("video_crf"),
                                 fps=max(1, round(self.p("rate_hz"))))
        if self._video is None or self._video.settings != settings:
            self._video = VideoSender(settings)
        return self._video

    def destroy_node(self):
        if self.source is not None:
            self.source.close()
        return super().destroy_node()


def main(args=None) -> None:
    run_node(ImageSourceNode, args)


if __name__ == "__main__":
    main()
