"""server node: received_symbols -> pilot equalisation -> JSCC decoder -> classification, for one robot or a fleet.

Publishes per frame ``classification`` (DiagnosticArray with the camera
frame's header: class, label, score, top-k, configuration, tokens, GMACs,
channel uses, end-to-end latency), ``label`` (std_msgs/String) and the
pilot-based ``estimated_snr`` (std_msgs/Float32, dB).

With ``robots: [r1, r2, ...]`` one process (one model in memory) serves a
fleet: it reads ``<robot>/received_symbols`` and publishes each robot's
results under ``<robot>/``, with that robot's header. Frames waiting at the
same moment are decoded in one padded forward pass (``max_batch``,
``batch_window_ms``); each robot keeps newest-frame-wins, and what it skipped
is counted per robot (``<robot>/frames_skipped`` on /diagnostics).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32, String

from ..core.model.merging_vit import MergeSchedule
from ..core.data.newest_frames import NewestFrames
from ..core.link.padded_batch import ReceivedFrame, decode_frames
from ..core.link.snr_profiles import implausible_snr
from .base import NEWEST_FRAME, RELIABLE, SequenceGaps, guarded
from .bundle_params import declare_link_params, load_link
from .classification import classification, latency_s, top_classes
from .managed import ManagedNode
from .stage_times import StageTimes
from .msg_convert import MessageError
from .symbol_cloud import cloud_to_symbols
from .process import run_node
from .robots import count_robot_error, robot_names, scoped


class UnknownRate(MessageError):
    """A frame coded at a rate this bundle has no JSCC code for."""


@dataclass
class Robot:
    """One robot's topics and what the server last said to it."""

    name: str
    sub: object = None
    pubs: tuple = ()
    gaps: SequenceGaps = field(default_factory=SequenceGaps)
    last: dict = field(default_factory=dict)

    def key(self, name: str) -> str:
        """This robot's topic or counter called ``name``."""
        return scoped(self.name, name)


@dataclass
class Waiting:
    robot: Robot
    header: object
    frame: ReceivedFrame
    conf: object


class ServerNode(ManagedNode):
    """Managed: configure loads the bundle, activate subscribes to received symbols, cleanup frees the model."""

    def __init__(self, **kwargs):
        super().__init__("semcom_server", **kwargs)
        self.stages = StageTimes()
        self.param("topk", 3, "classes listed per frame", lo=1, hi=20)
        self.param("robots", [""], "robot namespaces this one server serves (a fleet): <robot>/received_symbols "
                   "in, <robot>/classification, label and estimated_snr out; [''] serves one robot on the node's "
                   "own topics", read_only=True)
        self.param("max_batch", 8, "frames decoded together in one forward pass (1: one frame at a time)",
                   lo=1, hi=256)
        self.param("max_padding", 0.2, "a frame shares a batched pass only if padding fills at most this share of "
                   "it (frames of other lengths go in another pass): padding costs compute on a CPU; 1 puts every "
                   "frame in one pass (suits a GPU)", lo=0.0, hi=1.0)
        self.param("batch_window_ms", 0.0, "wait at most this long for more robots' frames before decoding "
                   "(0: take what is waiting, never wait)", lo=0.0, hi=1000.0)
        declare_link_params(self)
        self.robots = [Robot(n) for n in robot_names(self.p("robots"))]
        self.bundle = self.link = self.front = None
        self.mailbox = NewestFrames()
        self.window_timer = None
        self.batches = 0
        # a zero-period timer, reset to wake the decoder after the other ready callbacks (a guard condition
        # does the same under the wait-set executor; rclpy's EventsExecutor has timers but no guard conditions)
        self.wake = self.create_timer(0.0, self.on_wake)
        self.wake.cancel()
        self.start()

    def configure(self) -> None:
        self.bundle, self.link, self.front = load_link(self)
        self.labels = {c.name: self.front.label(c.name) for c in self.front.configurations}     # one lookup a frame
        for r in self.robots:
            r.pubs = (self.create_publisher(DiagnosticArray, r.key("classification"), RELIABLE),
                      self.create_publisher(String, r.key("label"), RELIABLE),
                      self.create_publisher(Float32, r.key("estimated_snr"), RELIABLE))
        fleet = f", serving {len(self.robots)} robots" if self.robots[0].name else ""
        self.get_logger().info(f"server configured: bundle {self.bundle.name} on {self.link.device}, decodes JSCC "
                               f"rates {self.link.rates} (symbols/token, as each frame says){fleet}")

    def activate(self) -> None:
        self.mailbox = NewestFrames()
        for r in self.robots:
            r.gaps = SequenceGaps()
            r.sub = self.create_subscription(PointCloud2, r.key("received_symbols"),
                                             lambda msg, info, robot=r: self.on_symbols(robot, msg, info),
                                             NEWEST_FRAME)
        self.get_logger().info(f"server active: symbols from {', '.join(r.sub.topic_name for r in self.robots)}")

    def deactivate(self) -> None:
        for r in self.robots:
            if r.sub is not None:
                self.destroy_subscription(r.sub)
            r.sub = None
        self.mailbox = NewestFrames()

    def cleanup(self) -> None:
        self.deactivate()
        for r in self.robots:
            for pub in r.pubs:
                self.destroy_publisher(pub)
            r.pubs = ()
        self.bundle = self.link = self.front = None

    def count(self, robot: Robot, counter: str, n: int = 1) -> None:
        self.counters[counter] += n
        if robot.name:
            self.counters[robot.key(counter)] += n

    def unpack(self, msg: PointCloud2) -> tuple[ReceivedFrame, object]:
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
        if not 0 <= config < len(self.front.configurations):
            raise MessageError(f"configuration index {config} is not in this server's front file")
        conf = self.front.configurations[config]
        if conf.rate != m:
            raise MessageError(f"configuration {conf.name} sends {conf.rate} symbols per token, the frame has {m}")
        frame = ReceivedFrame.from_received(symbols, pilots * m, sizes[pilots:], m, MergeSchedule.of(conf))
        return frame, conf

    @guarded("processing_errors")
    def on_symbols(self, robot: Robot, msg: PointCloud2, info) -> None:
        """Hold the frame as the robot's newest and wake the decoder (after every waiting frame is in)."""
        if not self.context.ok():
            return
        self.stages.arrived(msg.header, info)
        self.count(robot, "frames_in")
        self.count(robot, "frames_skipped", robot.gaps.see(info))
        try:
            frame, conf = self.unpack(msg)
        except UnknownRate as exc:
            count_robot_error(self, robot.name, "unknown_rates", f"received_symbols dropped: {exc}")
            return
        except (MessageError, ValueError) as exc:
            count_robot_error(self, robot.name, "bad_frames", f"received_symbols dropped: {exc}")
            return
        if self.mailbox.put(robot.name, Waiting(robot, msg.header, frame, conf)):
            self.count(robot, "frames_skipped")
            self.count(robot, "frames_replaced")    # of those: taken in, then replaced by a newer one
        if len(self.mailbox) >= min(self.p("max_batch"), len(self.robots)):
            self.drain()            # the batch is full (always, with one robot): decode now, no second wake-up
        else:
            self.wake.reset()       # after the other ready subscriptions: more frames may join the batch

    @guarded("processing_errors")
    def drain(self, force: bool = False) -> None:
        """Decode what is waiting, at most ``max_batch`` frames per pass, in one padded forward pass."""
        if not len(self.mailbox) or self.link is None:
            return
        window = self.p("batch_window_ms") * 1e-3
        enough = len(self.mailbox) >= min(self.p("max_batch"), len(self.robots))
        if window > 0 and not force and not enough:
            if self.window_timer is None:
                remaining = max(window - self.mailbox.longest_wait(), 1e-4)
                self.window_timer = self.create_timer(remaining, self.on_window)
            return
        self.cancel_window()        # the batch may be full before the window ended
        batch = [w for _, w in self.mailbox.take(self.p("max_batch"))]
        if len(self.mailbox):
            self.wake.reset()
        t0 = time.perf_counter()
        logits = decode_frames(self.link, [w.frame for w in batch], self.p("max_padding"))
        tops = top_classes(logits.softmax(-1).cpu(), self.p("topk"))
        compute_s = time.perf_counter() - t0
        self.batches += 1
        self.counters["batched_frames"] += len(batch)
        for w, top in zip(batch, tops):
            self.publish_result(w, top, compute_s)

    def on_wake(self) -> None:
        self.wake.cancel()
        self.drain()

    def cancel_window(self) -> None:
        if self.window_timer is not None:
            self.destroy_timer(self.window_timer)
            self.window_timer = None

    def on_window(self) -> None:
        """The window is over: decode what is waiting (a one-shot timer)."""
        self.cancel_window()
        self.drain(force=True)

    def publish_result(self, w: Waiting, top: list[tuple[int, float]], compute_s: float) -> None:
        names, conf, frame, robot = self.link.loaded.class_names, w.conf, w.frame, w.robot
        problem = implausible_snr(frame.snr_db)
        out, robot.last = classification(
            w.header, names, top,
            {"configuration": self.labels[conf.name], "configuration_id": conf.name,
             "rate": conf.rate, "tokens": frame.tokens, "gmacs": f"{conf.gmacs:.5f}",
             "channel_uses": frame.channel_uses,
             "estimated_snr_db": f"{math.nan if problem else frame.snr_db:.2f}",
             "latency_s": f"{latency_s(self, w.header):.4f}", "server_compute_s": f"{compute_s:.4f}",
             **({"robot": robot.name} if robot.name else {})})
        result_pub, label_pub, snr_pub = robot.pubs
        result_pub.publish(out)
        label_pub.publish(String(data=robot.last["label"]))
        self.count(robot, "frames_classified")
        if problem:         # e.g. a noise-free link: the estimate says nothing a policy could use
            count_robot_error(self, robot.name, "bad_snr", f"pilot SNR estimate not published: {problem}")
        else:               # after the result: it is not on the latency path
            snr_pub.publish(Float32(data=frame.snr_db))

    def diagnostic_values(self):
        keys = ("configuration", "rate", "latency_s", "estimated_snr_db")
        values = {r.key(k): r.last[k] for r in self.robots for k in keys if k in r.last}
        if self.batches:
            values["mean_batch"] = round(self.counters["batched_frames"] / self.batches, 2)
        return {**values, **self.stages.values()}


def main(args=None) -> None:
    run_node(ServerNode, args)


if __name__ == "__main__":
    main()
