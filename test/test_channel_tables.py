"""Fronts that know their channel: per-channel accuracy tables, made by the tool, checked, used by policies."""
import json
import subprocess
import sys

import pytest
import yaml

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.fronts.front_file import FrontFileError, parse_front, table_problems
from semcom_ros.core.policies.robot import make_policy


def front(by_channel_cheap=None):
    """Two configurations: on AWGN 'big' is worth its cost at 0 dB; on fading its edge is gone."""
    return parse_front({
        "format": 1, "model": "default", "rate": 4, "depth": 2, "channel": "awgn", "snr_grid": [0, 20],
        "operating_points": {"S1": "big"},
        "configurations": [
            {"name": "big", "ratios": [0, 0], "accuracy": 0.9, "gmacs": 1.0, "channel_uses": 200,
             "accuracy_by_snr": {0: 0.85, 20: 0.9}, "accuracy_by_channel": {"rayleigh": {0: 0.55, 20: 0.85}}},
            {"name": "small", "ratios": [0.5, 0.5], "accuracy": 0.8, "gmacs": 0.4, "channel_uses": 80,
             "accuracy_by_snr": {0: 0.70, 20: 0.8},
             "accuracy_by_channel": by_channel_cheap if by_channel_cheap is not None else
             {"rayleigh": {0: 0.50, 20: 0.78}}},
        ]})


def test_on_channel_swaps_the_tables_a_policy_predicts_with():
    f = front()
    assert f.channels == ["awgn", "rayleigh"]
    assert f.on_channel("awgn") is f
    fading = f.on_channel("rayleigh")
    assert fading.get("big").accuracy_at(0) == 0.55 and fading.channel == "rayleigh"
    assert f.get("big").accuracy_at(0) == 0.85                       # the original is untouched
    # most accurate per channel use above 0.6 at 0 dB: on AWGN both qualify (cheapest: small)...
    floor = {"accuracy_floor": 0.6, "cost": "channel_uses"}
    assert make_policy(f, "min_cost_above_floor", **floor).choose(0.0, 0) == "small"
    # ... on fading neither does, and the policy falls back to the most accurate there
    assert make_policy(fading, "min_cost_above_floor", **floor).choose(0.0, 0) == "big"
    with pytest.raises(KeyError, match="semcom-channel-tables"):
        f.on_channel("rician")


def test_broken_or_incomplete_tables_are_named():
    with pytest.raises(FrontFileError, match=r"accuracy_by_channel\.rayleigh\[0\]"):
        front({"rayleigh": {0: 1.5, 20: 0.8}})
    with pytest.raises(FrontFileError, match="accuracy_by_channel"):
        front(["rayleigh"])
    problems = table_problems(front({}), CHANNELS)
    assert problems == ["channel rayleigh: no accuracy table for small"]
    assert "not on the snr_grid" in table_problems(front({"rayleigh": {0: 0.5}}), CHANNELS)[0]
    assert "unknown channel 'two_ray'" in " ".join(table_problems(front({"rayleigh": {0: .5, 20: .7},
                                                                         "two_ray": {0: .5, 20: .7}}), CHANNELS))


def test_the_tool_adds_tables_to_every_front_of_a_bundle(tmp_path):
    out = tmp_path / "b"
    subprocess.run([sys.executable, "-m", "semcom_ros.tools.bundle", "copy", "garments", str(out)], check=True,
                   capture_output=True)
    run = subprocess.run([sys.executable, "-m", "semcom_ros.tools.channel_tables", "--bundle", str(out),
                          "--channels", "gilbert_elliott", "--burst-loss", "0.5", "--n-images", "20"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[-1])["channels"] == ["gilbert_elliott"]
    bundle = load_bundle(out)
    assert bundle.check() == []
    joint = bundle.joint_front()
    assert "gilbert_elliott" in joint.channels
    lossy = joint.on_channel("gilbert_elliott")
    s1 = joint.get("S1").name
    # half the data symbols erased costs accuracy at high SNR, against the AWGN table
    assert lossy.get(s1).accuracy_at(25.0) < joint.get(s1).accuracy_at(25.0) - 0.05
    raw = yaml.safe_load((out / "front_m4.yaml").read_text())
    assert raw["channel_tables"]["gilbert_elliott"]["burst_loss"] == 0.5
    assert bundle.card[-1]["step"] == "channel_tables"
    bad = subprocess.run([sys.executable, "-m", "semcom_ros.tools.channel_tables", "--bundle", str(out),
                          "--channels", "two_ray"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown" in bad.stderr
