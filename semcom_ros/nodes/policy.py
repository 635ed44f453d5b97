"""policy manager node: link SNR -> configuration (merge schedule and JSCC rate).

Listens to ``link_snr`` (std_msgs/Float32, dB; remap it to the server's
``estimated_snr`` to act on measured SNR) and to ``channel_symbols`` (the
frames the camera actually sent: budgeted policies charge each one and decide
again), and publishes the chosen configuration on ``active_configuration``
(std_msgs/String, transient local, so late joiners get the current choice).
Predicted accuracy comes from the table of the channel the link is on
(``link_channel``, see ``policy_host``). Mode and tuning are parameters and can be changed at run time; the Lyapunov
queue and the running mean of channel uses per frame are on ``/diagnostics``.
"""
from __future__ import annotations

import math

from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32, String

from ..core.bundle.bundle import load_bundle
from ..core.link.channel_models import CHANNELS
from ..core.policies.robot import COSTS, POLICY_MODES, make_policy
from ..core.link.snr_filter import SnrFilter
from ..core.link.snr_profiles import implausible_snr
from .base import LATCHED, NEWEST_FRAME, RELIABLE, guarded, now_s
from .bundle_params import declare_bundle_params, node_front
from .msg_convert import MessageError
from .policy_host import CHANNEL_PARAM, PolicyHost
from .process import run_node
from .symbol_cloud import data_symbols

POLICY_PARAMS = ("channel", "mode", "rates", "table_snr_db", "table_configurations", "hysteresis_db", "min_dwell_s",
                 "gmacs_cap", "channel_uses_cap", "accuracy_floor", "budget", "v", "budget_slack_frames", "cost")


class PolicyNode(PolicyHost):
    POLICY_PARAMS = POLICY_PARAMS

    def __init__(self, **kwargs):
        super().__init__("semcom_policy", **kwargs)
        self.param("mode", "snr_table", "how the link SNR picks a configuration: snr_table (SNR thresholds -> "
                   "configurations), max_accuracy_under_cap, min_cost_above_floor (predicted accuracy at the "
                   "current SNR against a cost cap / accuracy floor) or lyapunov (long-term channel-use budget)",
                   choices=POLICY_MODES)
        self.param("rates", [0], "JSCC rates the policy may choose from (0: every rate of the bundle's front)")
        self.param("table_snr_db", [-100.0, 8.0, 16.0], "snr_table: lowest SNR (dB) of each level")
        self.param("table_configurations", ["S1", "S2", "S3"], "snr_table: configuration of each level")
        self.param("hysteresis_db", 1.0, "snr_table: hysteresis around each threshold (dB)", lo=0.0, hi=20.0)
        self.param("min_dwell_s", 2.0, "minimum time between switches (s)", lo=0.0, hi=3600.0)
        self.param("gmacs_cap", 1.0, "max_accuracy_under_cap: cost cap (GMACs or channel uses)", lo=0.0, hi=1e6)
        self.param("channel_uses_cap", 0.0, "constraint modes: at most this many channel uses per frame (0: no cap)",
                   lo=0.0, hi=1e9)
        self.param("accuracy_floor", 0.8, "min_cost_above_floor: accuracy floor at the current SNR", lo=0.0, hi=1.0)
        self.param("budget", 104.0, "lyapunov: long-term mean channel uses per frame (data symbols of the frames "
                   "the camera sends, charged per frame)", lo=1e-6, hi=1e9)
        self.param("v", 20.0, "lyapunov: accuracy weight V (larger: closer to the best accuracy, longer to settle "
                   "at the budget)", lo=0.0, hi=1e9)
        self.param("budget_slack_frames", 30.0, "lyapunov: how far the spend may run ahead of the budget, in frames' "
                   "worth of it (the mean over T frames stays within budget x (1 + slack/T))", lo=0.0, hi=1e9)
        self.param("snr_average_s", 0.0, "average the incoming SNR over this time constant (s, in linear power) "
                   "before choosing: with link_snr remapped to the server's estimated_snr, about 1 s recovers the "
                   "mean SNR the fading tables are indexed by; 0: use each value as it comes", lo=0.0, hi=3600.0)
        self.param("cost", "gmacs", "constraint modes: the cost to cap or minimise", choices=COSTS)
        self.param("channel", "", CHANNEL_PARAM, choices=("",) + CHANNELS)
        declare_bundle_params(self)
        self.front = node_front(self, load_bundle(self.p("bundle")))
        self.follow_channel(["link_channel"])
        self.policy = self.build()
        self.snr_filter = SnrFilter(self.p("snr_average_s"))
        self.active = ""
        self.last_snr = math.nan
        self.pub = self.create_publisher(String, "active_configuration", LATCHED)
        self.create_subscription(Float32, "link_snr", self.on_snr, RELIABLE)
        self.create_subscription(PointCloud2, "channel_symbols", self.on_sent, NEWEST_FRAME)
        first = self.front.get("S1").name if self.front.operating_points.get("S1") else self.front.names[0]
        self.publish(first)

    def build(self, **override):
        get = lambda k: override.get(k, self.p(k))  # noqa: E731
        snrs, confs = list(get("table_snr_db")), list(get("table_configurations"))
        if len(snrs) != len(confs):
            raise ValueError(f"table_snr_db has {len(snrs)} entries, table_configurations {len(confs)}")
        if not all(math.isfinite(s) for s in snrs):
            raise ValueError("table_snr_db must be finite")
        return make_policy(self.tables(get("channel")), get("mode"), rates=list(get("rates")),
                           table=list(zip(snrs, confs)),
                           hysteresis_db=get("hysteresis_db"), min_dwell_s=get("min_dwell_s"),
                           gmacs_cap=get("gmacs_cap"), channel_uses_cap=get("channel_uses_cap"),
                           accuracy_floor=get("accuracy_floor"), budget=get("budget"), v=get("v"),
                           budget_slack_frames=get("budget_slack_frames"), cost=get("cost"))

    def on_parameters_changed(self, names):
        super().on_parameters_changed(names)
        if "snr_average_s" in names:
            self.snr_filter = SnrFilter(self.p("snr_average_s"))

    @guarded("processing_errors")
    def on_snr(self, msg: Float32) -> None:
        problem = implausible_snr(msg.data)
        if problem:
            self.count_error("bad_snr", f"link_snr ignored: {problem}")
            return
        self.last_snr = self.snr_filter.update(float(msg.data), now_s(self))
        self.publish(self.policy.choose(self.last_snr, now_s(self)))

    @guarded("processing_errors")
    def on_sent(self, msg: PointCloud2) -> None:
        """A frame the camera sent: charge its data symbols (pilots excluded), then decide again."""
        try:
            uses = data_symbols(msg)
        except MessageError as exc:
            self.count_error("bad_frames", f"channel_symbols not counted: {exc}")
            return
        self.counters["frames_seen"] += 1
        self.policy.charge(uses)
        if math.isfinite(self.last_snr):
            self.publish(self.policy.choose(self.last_snr, now_s(self)))

    def publish(self, name: str) -> None:
        if name != self.active:
            self.active = name
            self.pub.publish(String(data=name))
            self.counters["switches"] += 1
            why = f"SNR {self.last_snr:.1f} dB" if math.isfinite(self.last_snr) else "before any link SNR"
            self.get_logger().info(f"configuration -> {self.front.label(name)} ({why})")

    def diagnostic_values(self):
        return {"mode": self.p("mode"), "accuracy_tables": self.channel_in_use(),
                "configuration": self.front.label(self.active) if self.active else "",
                "link_snr_db": self.last_snr, **self.policy.state()}


def main(args=None) -> None:
    run_node(PolicyNode, args)


if __name__ == "__main__":
    main()
