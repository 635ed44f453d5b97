"""fleet policy node: every robot's link SNR -> each robot's configuration, under one shared budget.

For each robot in ``robots`` it listens to ``<robot>/link_snr`` (std_msgs/Float32,
dB) and ``<robot>/channel_symbols`` (the frames that robot sent: charged to the
shared budget, and they measure its frame rate), and publishes
``<robot>/active_configuration`` (std_msgs/String, transient local). ``budget`` is
channel uses per second for the whole fleet; ``weights`` say whose accuracy
matters more. Per-robot figures (configuration, SNR, frame rate, channel uses
per second, counters) are on ``/diagnostics`` as ``<robot>/<key>``.
"""
from __future__ import annotations

import math

from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32, String

from ..core.bundle.bundle import load_bundle
from ..core.link.channel_models import CHANNELS
from ..core.policies.fleet import FLEET_MODES, make_fleet_policy
from ..core.policies.robot import configurations_at
from ..core.link.snr_profiles import implausible_snr
from .base import LATCHED, NEWEST_FRAME, RELIABLE, guarded, now_s
from .bundle_params import declare_bundle_params, node_front
from .msg_convert import MessageError
from .policy_host import CHANNEL_PARAM, PolicyHost
from .process import run_node
from .robots import count_robot_error, robot_names, scoped
from .symbol_cloud import data_symbols

FLEET_PARAMS = ("channel", "mode", "rates", "budget", "weights", "v", "min_dwell_s", "default_rate_hz")


class FleetPolicyNode(PolicyHost):
    POLICY_PARAMS = FLEET_PARAMS

    def __init__(self, **kwargs):
        super().__init__("semcom_fleet_policy", **kwargs)
        self.param("robots", ["r1", "r2", "r3"], "robot namespaces sharing the link budget", read_only=True)
        self.param("mode", "shared_budget", "shared_budget: one drift-plus-penalty queue for the whole fleet; "
                   "equal_share: each robot its own lyapunov policy on budget/n", choices=FLEET_MODES)
        self.param("budget", 3000.0, "channel uses per second for the whole fleet (data symbols of the frames "
                   "the robots send)", lo=1e-3, hi=1e12)
        self.param("weights", [1.0], "weight of each robot's accuracy, in the order of robots (one value: the "
                   "same for all)")
        self.param("v", 20.0, "accuracy weight V (larger: closer to the best accuracy, longer to settle at the "
                   "budget)", lo=0.0, hi=1e9)
        self.param("min_dwell_s", 0.5, "minimum time between one robot's switches (s)", lo=0.0, hi=3600.0)
        self.param("rates", [0], "JSCC rates to choose from (0: every rate of the bundle's front)")
        self.param("default_rate_hz", 10.0, "frame rate assumed for a robot until its frames are measured",
                   lo=1e-3, hi=1e4)
        self.param("channel", "", CHANNEL_PARAM, choices=("",) + CHANNELS)
        declare_bundle_params(self)
        self.robots = robot_names(self.p("robots"))
        if self.robots == [""]:
            raise ValueError("robots: a fleet policy needs robot namespaces, e.g. [r1, r2, r3]")
        self.front = node_front(self, load_bundle(self.p("bundle")))
        self.follow_channel([scoped(r, "link_channel") for r in self.robots])
        self.policy = self.build()
        self.snr = {r: math.nan for r in self.robots}
        self.active = {r: "" for r in self.robots}
        self.pubs = {r: self.create_publisher(String, scoped(r, "active_configuration"), LATCHED)
                     for r in self.robots}
        for r in self.robots:
            self.create_subscription(Float32, scoped(r, "link_snr"), lambda m, r=r: self.on_snr(r, m), RELIABLE)
            self.create_subscription(PointCloud2, scoped(r, "channel_symbols"), lambda m, r=r: self.on_sent(r, m),
                                     NEWEST_FRAME)
        first = self.front.get("S1").name if self.front.operating_points.get("S1") else self.front.names[0]
        for r in self.robots:
            self.publish(r, first)

    def build(self, **override):
        get = lambda k: override.get(k, self.p(k))  # noqa: E731
        configs = configurations_at(self.tables(get("channel")), get("rates"))
        weights = list(get("weights"))
        weights = weights * len(self.robots) if len(weights) == 1 else weights
        return make_fleet_policy(get("mode"), self.robots, configs, budget=get("budget"), weights=weights,
                                 v=get("v"), min_dwell_s=get("min_dwell_s"), default_rate_hz=get("default_rate_hz"))

    @guarded("processing_errors")
    def on_snr(self, robot: str, msg: Float32) -> None:
        problem = implausible_snr(msg.data)
        if problem:
            count_robot_error(self, robot, "bad_snr", f"link_snr ignored: {problem}")
            return
        self.snr[robot] = float(msg.data)
        self.publish(robot, self.policy.choose(robot, self.snr[robot], now_s(self)))

    @guarded("processing_errors")
    def on_sent(self, robot: str, msg: PointCloud2) -> None:
        """A frame the robot sent: charge its data symbols (pilots excluded), then decide again for it."""
        try:
            uses = data_symbols(msg)
        except MessageError as exc:
            count_robot_error(self, robot, "bad_frames", f"channel_symbols not counted: {exc}")
            return
        self.counters[scoped(robot, "frames_seen")] += 1
        self.policy.charge(robot, uses, now_s(self))
        if math.isfinite(self.snr[robot]):
            self.publish(robot, self.policy.choose(robot, self.snr[robot], now_s(self)))

    def publish(self, robot: str, name: str) -> None:
        if name != self.active[robot]:
            self.active[robot] = name
            self.pubs[robot].publish(String(data=name))
            self.counters[scoped(robot, "switches")] += 1
            # debug: a fleet switches often; the counts and current choices are on /diagnostics
            self.get_logger().debug(f"{robot}: configuration -> {self.front.label(name)} "
                                    f"(SNR {self.snr[robot]:.1f} dB)")

    def diagnostic_values(self):
        out = {"mode": self.p("mode"), "accuracy_tables": self.channel_in_use(), **self.policy.state()}
        for r in self.robots:
            out[scoped(r, "link_snr_db")] = self.snr[r]
            out[scoped(r, "configuration")] = self.front.label(self.active[r]) if self.active[r] else ""
        return out


def main(args=None) -> None:
    run_node(FleetPolicyNode, args)


if __name__ == "__main__":
    main()
