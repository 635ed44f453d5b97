"""channel emulator node: channel_symbols -> a registered channel model -> received_symbols.

The model (``core/channel_models``: AWGN, i.i.d. or time-correlated Rayleigh,
Rician, Gilbert-Elliott bursts) and the link conditions it reads are parameters;
the node announces them as JSON on the latched ``link_channel``
(std_msgs/String), so a policy knows which accuracy table to use. Models with
memory advance by the wall time between frames. The mean link SNR follows a
profile (constant, steps, sine, random walk, trajectory or a CSV trace) and is
published on ``link_snr`` (std_msgs/Float32, dB) with every frame and at
``snr_rate_hz``. Headers pass through unchanged. Frames travel
with depth-1 queues (newest wins); frames skipped are counted. Received
symbols leave in the symbol format the frame came in (float32, int8, int4).
"""
from __future__ import annotations

import json

import numpy as np
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32, String

from ..core.link.channel_models import CHANNELS, LinkConditions, make_channel
from ..core.link.numpy_channel import propagate
from ..core.link.snr_profiles import PROFILES, SnrProfile
from .base import LATCHED, NEWEST_FRAME, RELIABLE, SemcomNode, SequenceGaps, guarded, wall
from .msg_convert import MessageError
from .process import run_node
from .stage_times import StageTimes
from .symbol_cloud import read_cloud, symbols_to_cloud

PROFILE_PARAMS = ("snr_db", "step_times", "step_snrs", "low_db", "high_db", "period_s", "walk_step_db", "csv_path",
                  "seed", "speed_mps", "distance_min_m", "distance_max_m", "snr_at_1m_db", "path_loss_exponent",
                  "shadowing_db", "shadowing_distance_m")
CONDITIONS = ("speed_mps", "carrier_ghz", "doppler_hz", "k_factor", "burst_loss", "burst_length", "block_symbols")


class ChannelNode(SemcomNode):
    def __init__(self, **kwargs):
        super().__init__("semcom_channel", **kwargs)
        self.stages = StageTimes()
        self.param("channel", "awgn", "channel model", choices=CHANNELS)
        # the link conditions (core.channel_models.LinkConditions); frame_interval_s is the frames' own timing
        self.param("speed_mps", 1.0, "robot speed (m/s): the Doppler of correlated_rayleigh and rician, and the "
                   "trajectory profile's speed", lo=0.0, hi=100.0)
        self.param("carrier_ghz", 2.4, "carrier frequency, for the Doppler (GHz)", lo=0.1, hi=100.0)
        self.param("doppler_hz", 0.0, "maximum Doppler (Hz); > 0 overrides speed_mps x carrier_ghz", lo=0.0, hi=1e4)
        self.param("k_factor", 3.0, "rician: line-of-sight power / scattered power", lo=0.0, hi=1000.0)
        self.param("burst_loss", 0.05, "gilbert_elliott: long-run share of data blocks erased", lo=0.0, hi=0.95)
        self.param("burst_length", 4.0, "gilbert_elliott: mean burst length (blocks)", lo=1.0, hi=1000.0)
        self.param("block_symbols", 16, "gilbert_elliott: symbols per erased block", lo=1, hi=4096)
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
        self.param("distance_min_m", 3.0, "trajectory: closest distance to the access point (m)", lo=0.1, hi=1e5)
        self.param("distance_max_m", 30.0, "trajectory: farthest distance to the access point (m)", lo=0.1, hi=1e5)
        self.param("snr_at_1m_db", 40.0, "trajectory: mean SNR 1 m from the access point (dB)", lo=-30.0, hi=100.0)
        self.param("path_loss_exponent", 3.0, "trajectory: log-distance path-loss exponent", lo=1.0, hi=6.0)
        self.param("shadowing_db", 6.0, "trajectory: log-normal shadowing standard deviation (dB)", lo=0.0, hi=20.0)
        self.param("shadowing_distance_m", 10.0, "trajectory: shadowing decorrelation distance (m)", lo=0.1, hi=1e4)
        self.param("snr_rate_hz", 2.0, "link_snr publish rate without traffic", lo=0.1, hi=100.0)
        self.profile = self.make_profile()
        self.rng = np.random.default_rng(self.p("seed"))
        self.t0 = wall()
        self.last_frame = None
        self.model = self.make_model()
        self.channel_pub = self.create_publisher(String, "link_channel", LATCHED)
        self.announce()
        self.snr_pub = self.create_publisher(Float32, "link_snr", RELIABLE)
        self.rx_pub = self.create_publisher(PointCloud2, "received_symbols", NEWEST_FRAME)
        self.gaps = SequenceGaps()
        self.create_subscription(PointCloud2, "channel_symbols", self.on_symbols, NEWEST_FRAME)
        self.snr_timer = self.create_timer(1.0 / self.p("snr_rate_hz"), self.publish_snr)

    def make_profile(self, **override) -> SnrProfile:
        get = lambda k: override.get(k, self.p(k))  # noqa: E731
        return SnrProfile(**{k: (list(get(k)) if k in ("step_times", "step_snrs") else get(k)) for k in PROFILE_PARAMS},
                          kind=get("profile"))

    def make_model(self, **override):
        get = lambda k: override.get(k, self.p(k))  # noqa: E731
        return make_channel(get("channel"), LinkConditions(**{k: get(k) for k in CONDITIONS}))

    def announce(self) -> None:
        """The model and its conditions, latched: a policy started later still learns them."""
        self.channel_pub.publish(String(data=json.dumps(self.model.describe())))

    def validate_parameter(self, name, value):
        pending = {**self.incoming, name: value}
        try:
            if name == "channel" or name in CONDITIONS:
                self.make_model(**{k: v for k, v in pending.items() if k in CONDITIONS or k == "channel"})
            if name == "profile" or name in PROFILE_PARAMS:
                self.make_profile(**{k: v for k, v in pending.items() if k == "profile" or k in PROFILE_PARAMS})
        except (ValueError, TypeError) as exc:
            return f"{name}={value!r}: {exc}"
        return None

    def on_parameters_changed(self, names):
        if names & ({"channel"} | set(CONDITIONS)):
            self.model = self.make_model()
            self.announce()
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
        self.stages.arrived(msg.header, info)
        self.counters["frames_in"] += 1
        self.counters["frames_skipped"] += self.gaps.see(info)
        try:
            fmt, symbols, sizes, m, config = read_cloud(msg)
        except MessageError as exc:
            self.count_error("bad_frames", f"channel_symbols dropped: {exc}")
            return
        snr, now = self.current_snr(), wall()
        dt = None if self.last_frame is None else now - self.last_frame
        self.last_frame = now
        out = propagate(symbols.reshape(-1), self.model, snr, self.rng, dt=dt, pilots=int((sizes == 0).sum()) * m)
        self.counters["symbols_erased"] += out.erased
        # what arrives travels on in the format it came in (a quantized frame is quantized again after the noise)
        self.rx_pub.publish(symbols_to_cloud(out.y, sizes, m, header=msg.header, config=config, fmt=fmt))
        self.stages.published()
        self.publish_snr(snr)
        self.counters["frames_out"] += 1

    def diagnostic_values(self):
        return {"link_snr_db": round(self.current_snr(), 2), "channel": self.p("channel"),
                "doppler_hz": round(self.model.conditions.max_doppler_hz, 2), **self.stages.values()}


def main(args=None) -> None:
    run_node(ChannelNode, args)


if __name__ == "__main__":
    main()
