"""Runtime policies on a hand-made front."""
import pytest

from semcom_ros.core.fronts.front_file import parse_front
from semcom_ros.core.fronts.joint_front import joint_front_data
from semcom_ros.core.policies.robot import (POLICIES, ConstraintPolicy, LyapunovPolicy, Policy, SnrTablePolicy,
                                            make_policy, register)

FRONT = parse_front({
    "format": 1, "model": "default", "rate": 4, "depth": 2,
    "operating_points": {"S1": "accurate", "S2": "balanced", "S3": "cheap"},
    "configurations": [
        {"name": "accurate", "ratios": [0.0, 0.0], "accuracy": 0.90, "gmacs": 1.0, "channel_uses": 260,
         "accuracy_by_snr": {0: 0.70, 10: 0.85, 20: 0.90}},
        {"name": "balanced", "ratios": [0.2, 0.2], "accuracy": 0.88, "gmacs": 0.6, "channel_uses": 170,
         "accuracy_by_snr": {0: 0.60, 10: 0.80, 20: 0.88}},
        {"name": "cheap", "ratios": [0.5, 0.5], "accuracy": 0.80, "gmacs": 0.3, "channel_uses": 80,
         "accuracy_by_snr": {0: 0.50, 10: 0.72, 20: 0.80}},
    ],
})


def test_snr_table_hysteresis_does_not_flap():
    p = SnrTablePolicy([(-100, "accurate"), (10, "balanced"), (20, "cheap")], hysteresis_db=1.0)
    assert p.choose(5, 0) == "accurate"
    assert p.choose(10.5, 1) == "accurate"        # inside the band: hold
    assert p.choose(11.2, 2) == "balanced"
    assert p.choose(9.5, 3) == "balanced"         # inside the band going down: hold
    assert p.choose(8.9, 4) == "accurate"
    assert p.choose(25, 5) == "cheap"             # jumps straight to the top level
    assert p.choose(-50, 6) == "accurate"


def test_min_dwell_holds_a_choice():
    p = SnrTablePolicy([(-100, "accurate"), (10, "cheap")], hysteresis_db=0.0, min_dwell_s=5.0)
    assert p.choose(0, 0.0) == "accurate"
    assert p.choose(20, 1.0) == "accurate"        # too soon after the first choice
    assert p.choose(20, 5.5) == "cheap"
    assert p.choose(0, 6.0) == "cheap"
    assert p.choose(0, 10.6) == "accurate"


def test_cheapest_above_floor_gets_cheaper_as_snr_improves():
    p = ConstraintPolicy(FRONT.configurations, "min_cost_above_floor", floor=0.79)
    assert p.choose(0, 0) == "accurate"           # nothing meets 0.79 at 0 dB: most accurate
    assert p.choose(10, 1) == "balanced"
    assert p.choose(20, 2) == "cheap"


def test_most_accurate_under_cap():
    p = ConstraintPolicy(FRONT.configurations, "max_accuracy_under_cap", cap=0.7)
    assert p.choose(20, 0) == "balanced"
    p = ConstraintPolicy(FRONT.configurations, "max_accuracy_under_cap", cap=0.1)
    assert p.choose(20, 0) == "cheap"             # nothing fits: cheapest


def test_lyapunov_meets_the_long_term_budget():
    budget = 150.0
    p = LyapunovPolicy(FRONT.configurations, budget=budget, v=10.0)
    used = []
    for t in range(2000):
        name = p.choose(20.0, float(t))
        used.append(FRONT.get(name).channel_uses)
        p.charge(used[-1])                        # the frame sent under that choice
    assert sum(used) / len(used) <= budget * 1.02
    assert p.state()["mean_channel_uses"] == pytest.approx(sum(used) / len(used), abs=0.01)
    assert len(set(used)) > 1                     # it mixes configurations to use the budget
    assert sum(used) / len(used) > 80             # rather than always sending the cheapest


@pytest.mark.parametrize("slack", [0.0, 5.0, 30.0])
def test_budget_slack_caps_the_running_mean_at_every_frame(slack):
    """With V so large the queue alone lets the mean sit far above the budget for long, the slack still holds it."""
    budget = 120.0
    free = LyapunovPolicy(FRONT.configurations, budget=budget, v=1e4)
    held = LyapunovPolicy(FRONT.configurations, budget=budget, v=1e4, slack_frames=slack)
    for t in range(1, 301):
        for p in (free, held):
            p.charge(FRONT.get(p.choose(0.0, float(t))).channel_uses)
        assert held.uses <= budget * (t + slack) + 1e-9
    assert free.uses / 300 > 1.5 * budget        # without the slack: far over after 300 frames
    assert held.uses / 300 > 0.95 * budget       # with it, the budget is still used
    assert make_policy(FRONT, "lyapunov", budget=budget, budget_slack_frames=slack).slack_frames == slack


def test_make_policy_resolves_operating_points_and_rejects_bad_input():
    p = make_policy(FRONT, "snr_table", table=[(-100, "S1"), (15, "S3")])
    assert p.choose(20, 0) == "cheap"
    with pytest.raises(KeyError, match="unknown configuration 'S9'"):
        make_policy(FRONT, "snr_table", table=[(-100, "S9")])
    with pytest.raises(ValueError, match="unknown policy mode"):
        make_policy(FRONT, "greedy")
    with pytest.raises(ValueError, match="positive budget"):
        make_policy(FRONT, "lyapunov", budget=0)
    with pytest.raises(ValueError, match="at least one entry"):
        make_policy(FRONT, "snr_table", table=[])


def rate_front(rate: int, scale: float) -> dict:
    """A rate's front: the same two schedules; more symbols per token survive noise better."""
    return {"format": 1, "model": "default", "rate": rate, "depth": 2, "snr_grid": [0.0, 20.0],
            "operating_points": {"S1": "full"},
            "configurations": [
                {"name": "full", "ratios": [0.0, 0.0], "accuracy": 0.90, "gmacs": 1.0, "channel_uses": 65 * rate,
                 "latency_ms": 5.0, "accuracy_by_snr": {0.0: 0.90 - 0.3 / scale, 20.0: 0.90 - 0.02 / scale}},
                {"name": "merged", "ratios": [0.5, 0.5], "accuracy": 0.85, "gmacs": 0.4, "channel_uses": 17 * rate,
                 "latency_ms": 3.0, "accuracy_by_snr": {0.0: 0.85 - 0.4 / scale, 20.0: 0.85 - 0.03 / scale}}]}


JOINT = parse_front(joint_front_data({2: rate_front(2, 1.0), 4: rate_front(4, 6.0), 8: rate_front(8, 8.0)}))


def test_joint_front_names_say_the_rate_and_operating_points_follow_the_rules():
    assert JOINT.joint and JOINT.rates == [2, 4, 8]
    assert {c.name: c.rate for c in JOINT.configurations}["merged@m8"] == 8
    # S1: best average over the grid (rate 8, no merging); S2: fewest channel uses within 2 points of it
    assert JOINT.get("S1").name == "full@m8"
    assert JOINT.label("S1") == "S1 (full@m8)"
    s1 = JOINT.raw["configurations"][[c.name for c in JOINT.configurations].index("full@m8")]["mean_accuracy"]
    s2 = JOINT.get("S2")
    assert s2.channel_uses == min(c.channel_uses for c in JOINT.configurations
                                  if sum(c.accuracy_by_snr.values()) / 2 >= s1 - 0.02)
    assert JOINT.get("S3").channel_uses <= s2.channel_uses
    JOINT.default_rate = 4
    assert JOINT.get("merged").name == "merged@m4"          # a plain schedule name means the starting rate


def test_policies_choose_over_rates_and_can_be_kept_to_some():
    table = make_policy(JOINT, "snr_table", table=[(-100, "full@m8"), (10, "merged@m2")], hysteresis_db=0)
    assert table.choose(0, 0) == "full@m8" and table.choose(20, 1) == "merged@m2"
    capped = make_policy(JOINT, "max_accuracy_under_cap", gmacs_cap=10.0, channel_uses_cap=100)
    assert JOINT.get(capped.choose(0, 0)).channel_uses <= 100
    only4 = make_policy(JOINT, "lyapunov", rates=[4], budget=100)
    assert {JOINT.get(only4.choose(s, t)).rate for t, s in enumerate((-10, 0, 20))} == {4}
    with pytest.raises(ValueError, match=r"rates \[3\] are not in the front"):
        make_policy(JOINT, "lyapunov", rates=[3], budget=100)


def test_joint_lyapunov_spends_symbols_where_the_link_is_bad_and_keeps_the_budget():
    budget = 0.4 * 65 * 4
    p = make_policy(JOINT, "lyapunov", budget=budget, v=50.0)
    used, acc, rates_by_snr = [], [], {0.0: set(), 20.0: set()}
    for t in range(4000):
        snr = 0.0 if (t // 50) % 2 else 20.0          # the link alternates every 50 frames
        conf = JOINT.get(p.choose(snr, float(t)))
        rates_by_snr[snr].add(conf.rate)
        used.append(conf.channel_uses)
        acc.append(conf.accuracy_at(snr))
        p.charge(conf.channel_uses)
    assert sum(used) / len(used) <= budget * 1.02
    fixed = [c for c in JOINT.configurations if c.channel_uses <= budget]
    best_fixed = max((c.accuracy_at(0.0) + c.accuracy_at(20.0)) / 2 for c in fixed)
    assert sum(acc) / len(acc) >= best_fixed
    assert p.state()["queue"] > 0


def test_a_new_policy_is_one_class_and_one_registration():
    @register("always_cheapest")
    class AlwaysCheapest(Policy):
        def __init__(self, configs):
            self.configs = configs

        @classmethod
        def from_params(cls, front, configs, params):
            return cls(configs)

        def choose(self, snr_db, now):
            return min(self.configs, key=lambda c: c.channel_uses).name
    try:
        assert make_policy(JOINT, "always_cheapest").choose(0, 0) == "merged@m2"
    finally:
        POLICIES.pop("always_cheapest")


def test_joint_front_drops_a_configuration_another_beats_everywhere():
    worse = rate_front(4, 6.0)
    worse["configurations"].append({**worse["configurations"][0], "name": "slow", "latency_ms": 9.0,
                                    "channel_uses": 300})
    joint = parse_front(joint_front_data({2: rate_front(2, 1.0), 4: worse}))
    assert "slow@m4" not in joint.names and "full@m4" in joint.names
