"""channel emulator node: channel_symbols -> AWGN / Rayleigh block fading -> received_symbols.

The link SNR follows a profile (constant, steps, sine, random walk or a CSV
trace) and is published on ``link_snr`` (std_msgs/Float32, dB) with every
frame and at ``snr_rate_hz``. Headers pass through unchanged. Frames travel
with depth-1 queues (newest wins); frames skipped are counted. Received
symbols leave in the symbol format the frame came in (float32, int8, int4).
"""
from __future__ import annotations

import numpy as np
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32

from ..core.numpy_channel import CHANNELS, propagate
from ..core.snr_profiles import PROFILES, SnrProfile
from .base import NEWEST_FRAME, RELIABLE, SemcomNode, SequenceGaps, guarded, wall
from .msg_convert import MessageError
from .process import run_node
from .symbol_cloud import read_cloud, symbols_to_cloud


class ChannelNode(SemcomNode):
    def __init__(self, **kwargs):
        super().__init__("semcom_channel", **kwargs)
        self.param("channel", "awgn", "channel model", choices=CHANNELS)
        self.param("profile", "constant", "SNR profile", choices=PROFILES)
        self.param("snr_db", 20.0, "constant profile SNR, and random-walk start (dB)", lo=-30.0, hi=60.0)
        self.param("step_times", [0.0, 20.0, 40.0], "steps profile: times (s) at which each SNR starts")
        self.param("step_snrs", [0.0, 12.0, 25.0], "steps profile: SNR (dB) from each time on")
        self.param("low_db", -5.0, "sine / random walk lower bound (dB)", lo=-30.0, hi=60.0)
        self.param("high_db", 25.0, "sine / random walk upper bound (dB)", lo=-30.0, hi=60.0)
        self.param("period_s", 60.0, "sine period (s)", lo=0.1, hi=1e6)
        self.param("walk_step_db", 1.0, "random walk step per second (dB)", lo=0.0, hi=20.0)
        self.param("csv_path", "", "csv profile: file of time_s,snr_db rows")
        self.param("seed", 0, "noise and random-walk seed", lo=0, hi=2**31 - 1)
        self.param("snr_rate_hz", 2.0, "link_snr publish rate without traffic", lo=0.1, hi=100.0)
        self.profile = self.make_profile()
        self.rng = np.random.default_rng(self.p("seed"))
        self.t0 = wall()
        self.snr_pub = self.create_publisher(Float32, "link_snr", RELIABLE)
        self.rx_pub = self.create_publisher(PointCloud2, "received_symbols", NEWEST_FRAME)
        self.gaps = SequenceGaps()
        self.create_subscription(PointCloud2, "channel_symbols", self.on_symbols, NEWEST_FRAME)
        self.snr_timer = self.create_timer(1.0 / self.p("snr_rate_hz"), self.publish_snr)

    def make_profile(self, **override) -> SnrProfile:
        get = lambda k: override.get(k, self.p(k))  # noqa: E731
        return SnrProfile(get("profile"), get("snr_db"), list(get("step_times")), list(get("step_snrs")),
                          get("low_db"), get("high_db"), get("period_s"), get("walk_step_db"), get("csv_path"),
                          get("seed"))

    def validate_parameter(self, name, value):
        names = ("profile", "snr_db", "step_times", "step_snrs", "low_db", "high_db", "period_s",
                 "walk_step_db", "csv_path", "seed")
        if name in names:
            try:
                self.make_profile(**{**{k: v for k, v in self.incoming.items() if k in names}, name: value})
            except (ValueError, TypeError) as exc:
                return f"{name}={value!r}: {exc}"
        return None

    def on_parameters_changed(self, names):
        self.profile = self.make_profile()
        if "seed" in names:
            self.rng = np.random.default_rng(self.p("seed"))
        if "snr_rate_hz" in names:
            self.destroy_timer(self.snr_timer)
            self.snr_timer = self.create_timer(1.0 / self.p("snr_rate_hz"), self.publish_snr)

    def current_snr(self) -> float:
        return self.profile.at(wall() - self.t0)

    def publish_snr(self, snr: float | None = None) -> None:
        self.snr_pub.publish(Float32(data=float(self.current_snr() if snr is None else snr)))

    @guarded("processing_errors")
    def on_symbols(self, msg: PointCloud2, info) -> None:
        self.counters["frames_in"] += 1
        self.counters["frames_skipped"] += self.gaps.see(info)
        try:
            fmt, symbols, sizes, m, config = read_cloud(msg)
        except MessageError as exc:
            self.count_error("bad_frames", f"channel_symbols dropped: {exc}")
            return
        snr = self.current_snr()
        y, _ = propagate(symbols.reshape(-1), self.p("channel"), snr, self.rng)
        # what arrives travels on in the format it came in (a quantized frame is quantized again after the noise)
        self.rx_pub.publish(symbols_to_cloud(y, sizes, m, header=msg.header, config=config, fmt=fmt))
        self.publish_snr(snr)
        self.counters["frames_out"] += 1

    def diagnostic_values(self):
        return {"link_snr_db": round(self.current_snr(), 2), "channel": self.p("channel")}


def main(args=None) -> None:
    run_node(ChannelNode, args)


if __name__ == "__main__":
    main()
