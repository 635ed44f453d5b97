"""Pareto extraction, hypervolume, operating points and front-file validation on hand-made data."""
import copy

import pytest
import yaml

from semcom_ros.core.fronts.front_file import FrontFileError, load_front, parse_front, save_front
from semcom_ros.core.fronts.pareto import dominates, hypervolume_2d, operating_points, pareto_indices

POINTS = [
    {"accuracy": 0.90, "gmacs": 10.0, "img_per_s": 100},   # 0 front (most accurate)
    {"accuracy": 0.85, "gmacs": 6.0, "img_per_s": 150},    # 1 front
    {"accuracy": 0.80, "gmacs": 7.0, "img_per_s": 140},    # 2 dominated by 1
    {"accuracy": 0.70, "gmacs": 4.0, "img_per_s": 200},    # 3 front
    {"accuracy": 0.85, "gmacs": 6.0, "img_per_s": 150},    # 4 duplicate of 1
    {"accuracy": 0.60, "gmacs": 4.5, "img_per_s": 190},    # 5 dominated by 3
]


def test_dominance():
    assert dominates(POINTS[1], POINTS[2], ("accuracy", "gmacs"))
    assert not dominates(POINTS[0], POINTS[1], ("accuracy", "gmacs"))
    assert not dominates(POINTS[1], POINTS[4], ("accuracy", "gmacs"))


def test_pareto_front_of_hand_made_points():
    assert pareto_indices(POINTS) == [0, 1, 3]


def test_third_objective_can_rescue_a_point():
    pts = [{"accuracy": 0.9, "gmacs": 5.0, "channel_uses": 100}, {"accuracy": 0.8, "gmacs": 6.0, "channel_uses": 50}]
    assert pareto_indices(pts) == [0]
    assert pareto_indices(pts, ("accuracy", "gmacs", "channel_uses")) == [0, 1]


def test_hypervolume_by_hand():
    # reference (acc 0, 12 GMACs): strips [4,6)x0.70 + [6,10)x0.85 + [10,12)x0.90
    expected = 2 * 0.70 + 4 * 0.85 + 2 * 0.90
    assert hypervolume_2d(POINTS, 0.0, 12.0) == pytest.approx(expected)
    # dominated points add nothing
    assert hypervolume_2d([POINTS[i] for i in (0, 1, 3)], 0.0, 12.0) == pytest.approx(expected)
    assert hypervolume_2d([], 0.0, 12.0) == 0.0


def test_operating_points():
    ops = operating_points(POINTS, accuracy_floor=0.84, gmacs_cap=5.0)
    assert ops == {"S1": 0, "S2": 1, "S3": 3}
    assert operating_points(POINTS, accuracy_floor=0.99, gmacs_cap=1.0) == {"S1": 0, "S2": None, "S3": None}
    # an S3 accuracy floor excludes the fastest point (3, 70 %) and keeps the fastest above it
    assert operating_points(POINTS, 0.84, 7.0)["S3"] == 3
    assert operating_points(POINTS, 0.84, 7.0, s3_accuracy_floor=0.80)["S3"] == 1


VALID = {
    "format": 1, "model": "default", "rate": 4, "depth": 2,
    "operating_points": {"S1": "a", "S2": "b", "S3": None},
    "configurations": [
        {"name": "a", "ratios": [0.0, 0.1], "accuracy": 0.9, "accuracy_by_snr": {0: 0.5, 10.0: 0.8},
         "gmacs": 0.1, "channel_uses": 200, "img_per_s": 50},
        {"name": "b", "thresholds": [0.9, 0.8], "accuracy": 0.8, "gmacs": 0.05, "channel_uses": 100},
    ],
}


def test_valid_front_round_trips(tmp_path):
    path = tmp_path / "front.yaml"
    save_front(copy.deepcopy(VALID), path)
    front = load_front(path)
    assert front.names == ["a", "b"]
    assert front.get("S1").name == "a"
    assert front.get("a").accuracy_at(8.0) == pytest.approx(0.74)   # linear between the grid's 0 and 10 dB
    assert front.get("a").accuracy_at(30.0) == 0.8 and front.get("a").accuracy_at(-9.0) == 0.5  # flat beyond
    assert front.get("b").accuracy_at(8.0) == 0.8      # no grid: noiseless figure


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d.pop("model"), "missing required key 'model'"),
    (lambda d: d.update(format=7), "format 7"),
    (lambda d: d["configurations"][0].update(ratios=[0.1]), "list of 2 numbers"),
    (lambda d: d["configurations"][0].update(ratios=[0.1, 1.5]), "outside"),
    (lambda d: d["configurations"][0].update(accuracy=float("nan")), "finite number"),
    (lambda d: d["configurations"][0].update(thresholds=[0.1, 0.1]), "exactly one"),
    (lambda d: d["configurations"][1].update(name="a"), "duplicate"),
    (lambda d: d["configurations"][0].update(accuracy_by_snr={"loud": 0.5}), "not an SNR"),
    (lambda d: d["operating_points"].update(S3="zzz"), "unknown configuration 'zzz'"),
    (lambda d: d.update(configurations=[]), "non-empty"),
])
def test_malformed_fronts_give_clear_errors(mutate, msg):
    data = copy.deepcopy(VALID)
    mutate(data)
    with pytest.raises(FrontFileError, match=msg):
        parse_front(data, "f.yaml")


def test_broken_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nconfigurations: [\n")
    with pytest.raises(FrontFileError, match="not valid YAML"):
        load_front(bad)
    with pytest.raises(FrontFileError, match="cannot read"):
        load_front(tmp_path / "missing.yaml")
    bad.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(FrontFileError, match="mapping"):
        load_front(bad)


def test_unknown_configuration_name_lists_known_ones(tmp_path):
    front = parse_front(copy.deepcopy(VALID))
    with pytest.raises(KeyError, match="known: a, b"):
        front.get("fastest")
