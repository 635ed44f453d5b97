"""camera (edge) node: image -> merging ViT -> JSCC -> channel symbols (PointCloud2).

Subscribes to any camera driver's images (``image_input``: raw or compressed,
best-effort or reliable, newest frame wins). Also listens to
``active_configuration`` (from the policy manager); publishes
``channel_symbols`` and, at ``viz_rate_hz``, ``merge_viz`` (which patches
each transmitted token holds).
"""
from __future__ import annotations

import math
import time
from collections import deque
from statistics import median

from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import String

from ..core.link.channels import with_pilots
from ..core.model.merge_viz import render_partition
from ..core.model.merging_vit import MergeSchedule
from .base import LATCHED, NEWEST_FRAME, now_s
from .bundle_params import declare_link_params, load_link
from .image_input import ImageInput
from .managed import ManagedNode
from .msg_convert import array_to_image, converter_name
from .process import run_node
from .symbol_cloud import SYMBOL_FORMATS, symbols_to_cloud


class CameraNode(ImageInput, ManagedNode):
    """Managed: configure loads the bundle (and compiles), activate subscribes to images, cleanup frees the model."""

    def __init__(self, **kwargs):
        super().__init__("semcom_camera", **kwargs)
        self.param("configuration", "S1", "configuration to run until the policy manager says otherwise")
        self.param("merge_mode", "norm", "norm: APTM eq. 12; size: ToMe mean", choices=("norm", "size"))
        self.param("pilot_records", 4, "records of known pilot symbols sent first in each frame", lo=1, hi=64)
        self.param("power", 1.0, "mean transmit power per symbol", lo=1e-3, hi=1e3)
        self.param("symbol_format", "float32", "how symbols travel in channel_symbols: float32 (exact, 8 bytes a "
                   "symbol) or quantized I/Q with one scale per frame (int8: 2 bytes, int4: 1 byte; coded8, coded4: "
                   "the same entropy-coded per frame) for links that carry bytes; the server reads the format from "
                   "each frame", choices=tuple(SYMBOL_FORMATS))
        self.param("viz_rate_hz", 1.0, "merge visualisation rate (0: off)", lo=0.0, hi=30.0)
        self.declare_image_params()
        self.param("compile_configurations", [""], "configurations (names or S1/S2/S3) whose edge is graph-captured "
                   "with torch.compile at start-up (seconds each); the others run eager", read_only=True)
        declare_link_params(self)
        self.bundle = self.link = self.front = None
        self.sym_pub = self.viz_pub = self.config_sub = None
        self.active = ""
        self.compiled: list[str] = []
        self.last_viz = -math.inf
        self.last_tokens = 0
        self.compute_ms: deque[float] = deque(maxlen=100)
        self.start()

    def configure(self) -> None:
        self.bundle, self.link, self.front = load_link(self)
        self.active = ""
        self.compiled = self.compile_configurations([c for c in self.p("compile_configurations") if c])
        self.apply_configuration(self.p("configuration"))
        self.sym_pub = self.create_publisher(PointCloud2, "channel_symbols", NEWEST_FRAME)
        self.viz_pub = self.create_publisher(Image, "merge_viz", qos_profile_sensor_data)
        self.get_logger().info(f"edge configured: bundle {self.bundle.name} on {self.link.device}, JSCC rates "
                               f"{self.link.rates} (symbols/token), configuration {self.front.label(self.active)}")

    def activate(self) -> None:
        self.subscribe_images()
        self.config_sub = self.create_subscription(String, "active_configuration", self.on_configuration, LATCHED)
        self.get_logger().info(f"edge active: images from {self.image_sub.topic_name} "
                               f"({self.p('image_transport')}, {self.p('image_reliability')}, "
                               f"{converter_name()} image converter)")

    def deactivate(self) -> None:
        self.unsubscribe_images()
        if self.config_sub is not None:
            self.destroy_subscription(self.config_sub)
        self.config_sub = None

    def cleanup(self) -> None:
        self.deactivate()
        for pub in (self.sym_pub, self.viz_pub):
            if pub is not None:
                self.destroy_publisher(pub)
        self.sym_pub = self.viz_pub = None
        self.bundle = self.link = self.front = None      # the model goes with the link
        self.compiled = []

    def compile_configurations(self, names: list[str]) -> list[str]:
        """Capture the edge graph for these configurations now, before any frame arrives."""
        import numpy as np

        dummy = self.link.preprocess([np.zeros((64, 64, 3), np.uint8)])
        done = []
        for name in names:
            self.apply_configuration(name)      # KeyError names the known configurations
            seconds = self.link.compile_for(dummy, self.p("power"))
            done.append(self.front.label(name))
            self.get_logger().info(f"compiled the edge for {done[-1]} in {seconds:.1f} s")
        return done

    def apply_configuration(self, name: str) -> None:
        """Merge schedule and JSCC rate together, between two frames: the next frame uses both."""
        conf = self.front.get(name)   # KeyError names the known configurations (or the missing JSCC code)
        self.link.use(conf, self.p("merge_mode"))
        if conf.name != self.active:
            self.counters["configuration_switches"] += 1
        self.active = conf.name

    def validate_parameter(self, name, value):
        if name == "configuration" and self.front is not None:
            try:
                rate = self.front.get(value).rate
                if rate not in self.link.codes:
                    return f"{value}: no JSCC code for its rate {rate}"
            except KeyError as exc:
                return str(exc.args[0])
        return None

    def on_parameters_changed(self, names):
        if self.link is None:          # unconfigured: configure reads the new values
            return
        if "configuration" in names:
            self.apply_configuration(self.p("configuration"))
        if "merge_mode" in names:
            self.link.schedule = MergeSchedule(self.link.schedule.ratios, self.link.schedule.thresholds,
                                               self.p("merge_mode"))
        self.resubscribe_if_changed(names)

    def on_configuration(self, msg: String) -> None:
        try:
            self.apply_configuration(msg.data)
        except KeyError as exc:
            self.count_error("unknown_configurations", f"active_configuration: {exc.args[0]}")

    def on_frame(self, frame_rgb, msg) -> None:
        viz = self.p("viz_rate_hz") > 0 and now_s(self) - self.last_viz >= 1.0 / max(self.p("viz_rate_hz"), 1e-9)
        self.link.model.merge_state.trace_source = viz
        t0 = time.perf_counter()
        edge = self.link.edge(self.link.preprocess([frame_rgb]), self.p("power"))
        self.compute_ms.append((time.perf_counter() - t0) * 1e3)
        m = self.link.rate
        tx = with_pilots(edge.symbols.cpu(), self.p("pilot_records") * m, self.p("power"))
        sizes = [0.0] * self.p("pilot_records") + edge.sizes[0].cpu().tolist()
        self.sym_pub.publish(symbols_to_cloud(tx[0].numpy(), sizes, m, header=msg.header,
                                              config=self.front.names.index(self.active),
                                              fmt=self.p("symbol_format")))
        self.stages.published()
        self.counters["frames_sent"] += 1
        self.last_tokens = int(edge.tokens.shape[1])
        if viz:
            self.last_viz = now_s(self)
            self.publish_viz(frame_rgb, msg.header)

    def publish_viz(self, frame_rgb, header) -> None:
        state = self.link.model.merge_state
        prefix = self.link.model.num_prefix_tokens
        source = state.source[0, prefix:].cpu().numpy()
        img = render_partition(frame_rgb, source, self.link.model.patch_embed.grid_size)
        self.viz_pub.publish(array_to_image(img, header))

    def diagnostic_values(self):
        if self.front is None:
            return {}
        return {"configuration": self.front.label(self.active), "rate": self.link.rate,
                "tokens_sent": self.last_tokens,
                "compute_ms_p50": round(median(self.compute_ms), 2) if self.compute_ms else "",
                "image_topic": self.image_sub.topic_name if self.image_sub else "",
                "compiled": ", ".join(self.compiled), **self.stages.values()}


def main(args=None) -> None:
    run_node(CameraNode, args)


if __name__ == "__main__":
    main()
