"""classifier node: the bundle's whole model on camera images, no semantic link: what a team runs without one.

Behind a link that carries the camera's frames (``image_transport: compressed``,
JPEG as image_transport sends it) it is the usual alternative to this package's
split; on the robot it classifies there and only ``label`` crosses the link.
It publishes the same ``classification`` and ``label`` as the server node, so
both paths can be compared frame by frame.
"""
from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
from std_msgs.msg import String

from ..core.model.merging_vit import MergeSchedule
from .base import RELIABLE
from .bundle_params import declare_link_params
from .classification import classification, latency_s, top_classes
from .image_input import ImageInput
from .managed import ManagedNode
from .msg_convert import converter_name
from .process import run_node


class ClassifierNode(ImageInput, ManagedNode):
    """Managed: configure loads the model, activate subscribes to images, cleanup frees the model."""

    def __init__(self, **kwargs):
        super().__init__("semcom_classifier", **kwargs)
        self.param("topk", 3, "classes listed per frame", lo=1, hi=20)
        self.declare_image_params()
        declare_link_params(self, rate=False)
        self.link = None
        self.result_pub = self.label_pub = None
        self.last: dict = {}
        self.start()

    def configure(self) -> None:
        import torch

        from ..core.bundle.bundle import load_bundle

        bundle = load_bundle(self.p("bundle"))
        torch.set_num_threads(self.p("threads"))
        self.link = bundle.link(None, self.p("device"))       # the model alone: no JSCC
        self.link.schedule = MergeSchedule(ratios=[0.0] * self.link.depth)
        self.result_pub = self.create_publisher(DiagnosticArray, "classification", RELIABLE)
        self.label_pub = self.create_publisher(String, "label", RELIABLE)
        self.get_logger().info(f"classifier configured: the whole model of bundle {bundle.name} on "
                               f"{self.link.device}")

    def activate(self) -> None:
        self.subscribe_images()
        self.get_logger().info(f"classifier active: images from {self.image_sub.topic_name} "
                               f"({self.p('image_transport')}, {converter_name()} image converter)")

    def deactivate(self) -> None:
        self.unsubscribe_images()

    def cleanup(self) -> None:
        self.deactivate()
        for pub in (self.result_pub, self.label_pub):
            if pub is not None:
                self.destroy_publisher(pub)
        self.result_pub = self.label_pub = self.link = None

    def on_parameters_changed(self, names):
        self.resubscribe_if_changed(names)

    def on_frame(self, frame, msg) -> None:
        t0 = time.perf_counter()
        logits, _ = self.link.classify(self.link.preprocess([frame]))
        compute_s = time.perf_counter() - t0
        top = top_classes(logits.softmax(-1).cpu(), self.p("topk"))[0]
        out, self.last = classification(msg.header, self.link.loaded.class_names, top,
                                        {"latency_s": f"{latency_s(self, msg.header):.4f}",
                                         "compute_s": f"{compute_s:.4f}"})
        self.result_pub.publish(out)
        self.stages.published()
        self.label_pub.publish(String(data=self.last["label"]))
        self.counters["frames_classified"] += 1

    def diagnostic_values(self):
        return {**{k: self.last[k] for k in ("label", "latency_s", "compute_s") if k in self.last},
                **self.stages.values()}


def main(args=None) -> None:
    run_node(ClassifierNode, args)


if __name__ == "__main__":
    main()
