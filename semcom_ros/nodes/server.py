"""server node: received_symbols -> pilot equalisation -> JSCC decoder -> classification.

Publishes per frame ``classification`` (DiagnosticArray with the camera
frame's header: class, label, score, top-k, configuration, tokens, GMACs,
channel uses, end-to-end latency), ``label`` (std_msgs/String) and the
pilot-based ``estimated_snr`` (std_msgs/Float32, dB).
"""
from __future__ import annotations

import math
import time

import torch
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.time import Time
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32, String

from ..core.channels import equalize, estimate_from_pilots
from ..core.snr_profiles import implausible_snr
from .base import NEWEST_FRAME, RELIABLE, SequenceGaps, declare_link_params, guarded, load_link
from .managed import ManagedNode
from .msg_convert import MessageError, cloud_to_symbols
from .process import run_node


class UnknownRate(MessageError):
    """A frame coded at a rate this bundle has no JSCC code for."""


class ServerNode(ManagedNode):
    """Managed: configure loads the bundle, activate subscribes to received symbols, cleanup frees the model."""

    def __init__(self, **kwargs):
        super().__init__("semcom_server", **kwargs)
        self.param("topk", 3, "classes listed per frame", lo=1, hi=20)
        declare_link_params(self)
        self.bundle = self.link = self.front = None
        self.result_pub = self.label_pub = self.snr_pub = self.symbols_sub = None
        self.last = {}
        self.gaps = SequenceGaps()
        self.start()

    def configure(self) -> None:
        self.bundle, self.link, self.front = load_link(self)
        self.result_pub = self.create_publisher(DiagnosticArray, "classification", RELIABLE)
        self.label_pub = self.create_publisher(String, "label", RELIABLE)
        self.snr_pub = self.create_publisher(Float32, "estimated_snr", RELIABLE)
        self.get_logger().info(f"server configured: bundle {self.bundle.name} on {self.link.device}, decodes JSCC "
                               f"rates {self.link.rates} (symbols/token, as each frame says)")

    def activate(self) -> None:
        self.gaps = SequenceGaps()
        self.symbols_sub = self.create_subscription(PointCloud2, "received_symbols", self.on_symbols, NEWEST_FRAME)
        self.get_logger().info(f"server active: symbols from {self.symbols_sub.topic_name}")

    def deactivate(self) -> None:
        if self.symbols_sub is not None:
            self.destroy_subscription(self.symbols_sub)
        self.symbols_sub = None

    def cleanup(self) -> None:
        self.deactivate()
        for pub in (self.result_pub, self.label_pub, self.snr_pub):
            if pub is not None:
                self.destroy_publisher(pub)
        self.result_pub = self.label_pub = self.snr_pub = None
        self.bundle = self.link = self.front = None

    def unpack(self, msg: PointCloud2):
        symbols, sizes, m, config = cloud_to_symbols(msg)
        if m not in self.link.codes:
            raise UnknownRate(f"frame has {m} symbols per token; the bundle has JSCC codes for {self.link.rates}")
        pilots = int((sizes == 0).sum())
        if pilots == 0 or (sizes[:pilots] != 0).any():
            raise MessageError("frame must start with pilot records (size 0) and have no others")
        if pilots == len(sizes):
            raise MessageError("frame holds pilots but no tokens")
        if pilots * m < 2:
            raise MessageError("at least 2 pilot symbols are needed")
        if not 0 <= config < len(self.front.names):
            raise MessageError(f"configuration index {config} is not in this server's front file")
        conf = self.front.configurations[config]
        if conf.rate != m:
            raise MessageError(f"configuration {conf.name} sends {conf.rate} symbols per token, the frame has {m}")
        return (torch.from_numpy(symbols.reshape(1, -1)), torch.from_numpy(sizes[pilots:])[None], pilots * m, conf)

    @guarded("processing_errors")
    def on_symbols(self, msg: PointCloud2, info) -> None:
        self.counters["frames_in"] += 1
        self.counters["frames_skipped"] += self.gaps.see(info)
        try:
            y, sizes, n_pilots, conf = self.unpack(msg)
        except UnknownRate as exc:
            self.count_error("unknown_rates", f"received_symbols dropped: {exc}")
            return
        except MessageError as exc:
            self.count_error("bad_frames", f"received_symbols dropped: {exc}")
            return
        t0 = time.perf_counter()
        h_est, snr_est = estimate_from_pilots(y, n_pilots)
        data = equalize(y[:, n_pilots:], h_est)
        with torch.no_grad():
            probs = self.link.decode(data, snr_est, sizes, rate=conf.rate).softmax(-1)[0].cpu()
        compute_s = time.perf_counter() - t0
        snr_db = float(snr_est[0])
        problem = implausible_snr(snr_db)
        self.publish_result(msg.header, probs, conf, int(sizes.shape[1]), int(data.shape[1]),
                            math.nan if problem else snr_db, compute_s)
        if problem:         # e.g. a noise-free link: the estimate says nothing a policy could use
            self.count_error("bad_snr", f"pilot SNR estimate not published: {problem}")
        else:               # after the result: it is not on the latency path
            self.snr_pub.publish(Float32(data=snr_db))

    def publish_result(self, header, probs, conf, tokens: int, channel_uses: int, snr_est: float,
                       compute_s: float) -> None:
        names = self.link.loaded.class_names
        top = probs.topk(min(self.p("topk"), probs.numel()))
        cls = int(top.indices[0])
        latency = (self.get_clock().now() - Time.from_msg(header.stamp)).nanoseconds * 1e-9
        self.last = {"class_id": cls, "label": names[cls], "score": f"{float(top.values[0]):.4f}",
                     "topk": ";".join(f"{names[int(i)]}:{float(v):.3f}" for v, i in zip(top.values, top.indices)),
                     "configuration": self.front.label(conf.name), "configuration_id": conf.name,
                     "rate": conf.rate, "tokens": tokens,
                     "gmacs": f"{conf.gmacs:.5f}",
                     "channel_uses": channel_uses, "estimated_snr_db": f"{snr_est:.2f}",
                     "latency_s": f"{latency:.4f}", "server_compute_s": f"{compute_s:.4f}"}
        status = DiagnosticStatus(level=DiagnosticStatus.OK, name="semcom_classification", message=names[cls],
                                  hardware_id=header.frame_id,
                                  values=[KeyValue(key=k, value=str(v)) for k, v in self.last.items()])
        out = DiagnosticArray(status=[status])
        out.header = header
        self.result_pub.publish(out)
        self.label_pub.publish(String(data=names[cls]))
        self.counters["frames_classified"] += 1

    def diagnostic_values(self):
        return {k: self.last[k] for k in ("configuration", "rate", "latency_s", "estimated_snr_db") if k in self.last}


def main(args=None) -> None:
    run_node(ServerNode, args)


if __name__ == "__main__":
    main()
