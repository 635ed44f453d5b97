"""Runtime policies on a hand-made front."""
import pytest

from semcom_ros.core.front_file import parse_front
from semcom_ros.core.policies import ConstraintPolicy, LyapunovPolicy, SnrTablePolicy, make_policy

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
    assert sum(used) / len(used) <= budget * 1.02
    assert len(set(used)) > 1                     # it mixes configurations to use the budget
    assert sum(used) / len(used) > 80             # rather than always sending the cheapest


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
