"""The fleet's ROS-free parts: newest-frame-wins per robot and the policies sharing one budget."""
import math

import pytest

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.policies.fleet import FLEET_MODES, FrameRate, make_fleet_policy
from semcom_ros.core.data.newest_frames import NewestFrames
from semcom_ros.nodes.robots import robot_names, scoped

ROBOTS = ["r1", "r2", "r3", "r4"]
SNRS = {"r1": -5.0, "r2": 5.0, "r3": 15.0, "r4": 25.0}


def test_a_newer_frame_replaces_the_waiting_one_keeps_its_place_and_is_counted():
    box = NewestFrames()
    assert not box.put("a", 1) and not box.put("b", 1) and not box.put("c", 1)
    assert box.put("a", 2)                 # a's first frame was never served
    assert box.skipped == {"a": 1}
    assert box.take(2) == [("a", 2), ("b", 1)]      # a waited longest, its newest frame is taken
    assert len(box) == 1 and box.take(5) == [("c", 1)] and box.take(5) == []


def test_the_wait_counts_from_the_first_frame_of_the_longest_waiting_robot():
    now = [10.0]
    box = NewestFrames(clock=lambda: now[0])
    assert box.longest_wait() == 0.0
    box.put("a", 1)
    now[0] = 10.3
    box.put("b", 1)
    box.put("a", 2)                     # a newer frame does not restart a's wait
    now[0] = 10.5
    assert box.longest_wait() == pytest.approx(0.5)
    box.take(1)                         # a served: b (waiting since 10.3) is now the longest
    assert box.longest_wait() == pytest.approx(0.2)


def test_robot_names_are_namespaces():
    assert robot_names([""]) == [""] and robot_names([]) == [""]
    assert robot_names(["r1", "/fleet/r2/"]) == ["r1", "fleet/r2"]
    assert scoped("r1", "label") == "r1/label" and scoped("", "label") == "label"
    for bad in (["r1", "r1"], ["1r"], ["r 1"]):
        with pytest.raises(ValueError, match="robots"):
            robot_names(bad)


def test_frame_rate_is_measured_from_charges():
    rate = FrameRate(default_hz=5.0)
    assert rate.hz == 5.0
    for k in range(50):
        rate.see(k * 0.1, 100.0)
    assert rate.hz == pytest.approx(10.0) and rate.uses_per_s() == pytest.approx(1000.0, rel=0.03)


def run(policy, front, seconds=60.0, hz=10.0, snrs=SNRS):
    """Robots sending round-robin at ``hz`` each; what each ran, and the fleet's channel uses per second."""
    uses, chosen = 0.0, {r: [] for r in snrs}
    t, step = 0.0, 1.0 / (hz * len(snrs))
    while t < seconds:
        for r in snrs:
            conf = front.get(policy.choose(r, snrs[r], t))
            chosen[r].append(conf)
            uses += conf.channel_uses
            policy.charge(r, conf.channel_uses, t)
            t += step
    return chosen, uses / t


@pytest.fixture(scope="module")
def front():
    return load_bundle("garments").front(4)          # the budgets below are set in its channel uses


def test_the_shared_budget_holds_and_goes_to_the_robots_whose_links_need_it(front):
    budget = 4 * 10 * 80.0      # 80 channel uses per frame on average
    policy = make_fleet_policy("shared_budget", ROBOTS, front.configurations, budget=budget, v=20.0)
    chosen, per_s = run(policy, front)
    assert per_s <= 1.02 * budget
    mean_uses = {r: sum(c.channel_uses for c in cs) / len(cs) for r, cs in chosen.items()}
    assert mean_uses["r1"] > mean_uses["r4"], mean_uses        # -5 dB gets more of the link than 25 dB
    state = policy.state()
    assert state["r1/frames_charged"] == len(chosen["r1"]) and state["budget_per_s"] == budget
    assert math.isclose(state["r1/frame_rate_hz"], 10.0, rel_tol=0.02)


def test_sharing_the_budget_beats_equal_shares_in_predicted_accuracy(front):
    budget = 4 * 10 * 80.0
    acc = {}
    for mode in FLEET_MODES:
        chosen, per_s = run(make_fleet_policy(mode, ROBOTS, front.configurations, budget=budget), front)
        assert per_s <= 1.02 * budget, (mode, per_s)
        acc[mode] = sum(c.accuracy_at(SNRS[r]) for r, cs in chosen.items() for c in cs) / sum(map(len, chosen.values()))
    assert acc["shared_budget"] > acc["equal_share"], acc


def test_weights_move_the_budget_to_the_robot_that_matters_more(front):
    snrs = {"a": 0.0, "b": 0.0}
    means = []
    for weights in ([1.0, 1.0], [1.0, 20.0]):
        policy = make_fleet_policy("shared_budget", list(snrs), front.configurations, budget=2 * 10 * 70.0,
                                   weights=weights)
        chosen, _ = run(policy, front, snrs=snrs)
        means.append(sum(c.channel_uses for c in chosen["b"]) / len(chosen["b"]))
    assert means[1] > means[0], means


def test_bad_fleet_settings_are_refused_with_a_reason(front):
    confs = front.configurations
    with pytest.raises(ValueError, match="unknown fleet policy mode"):
        make_fleet_policy("greedy", ROBOTS, confs, budget=100.0)
    with pytest.raises(ValueError, match="3 weights for 4 robots"):
        make_fleet_policy("shared_budget", ROBOTS, confs, budget=100.0, weights=[1, 1, 1])
    with pytest.raises(ValueError, match="positive"):
        make_fleet_policy("shared_budget", ROBOTS, confs, budget=0.0)
    with pytest.raises(KeyError, match="unknown robot"):
        make_fleet_policy("equal_share", ROBOTS, confs, budget=100.0).choose("r9", 10.0, 0.0)
