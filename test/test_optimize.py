"""The offline optimiser end to end (tiny study), and the shipped front against its baselines."""
import json

import pytest
import torch

from semcom_ros.core.datasets import load_embedded_eval
from semcom_ros.core.evaluation import evaluate
from semcom_ros.core.front_file import load_front
from semcom_ros.core.merging_vit import MergeSchedule
from semcom_ros.tools.optimize import UNIFORM_RATIOS, main
from semcom_ros.core.pareto import dominates, hypervolume_2d
from semcom_ros.core.bundle import load_bundle


def test_tiny_study_writes_a_valid_front_and_resumes(tmp_path, capsys):
    out, journal = tmp_path / "front.yaml", tmp_path / "study.log"
    argv = ["--trials", "4", "--n-images", "60", "--final-images", "60", "--random", "2",
            "--snr-grid", "0,20", "--storage", str(journal), "--out", str(out), "--plots", str(tmp_path)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    front = load_front(out)
    assert front.raw["study"]["trials"] == 4
    assert len(front.configurations) == summary["front_size"] >= 1
    assert {b["name"] for b in front.raw["baselines"]} >= {"none", "uniform_0.10", "random_1"}
    assert all(set(c.accuracy_by_snr) == {0.0, 20.0} for c in front.configurations)
    assert front.get("S1").accuracy == max(c.accuracy for c in front.configurations)
    for png in ("front_default.png", "snr_default.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    # same storage, more trials: the study resumes instead of starting over
    assert main(argv[:1] + ["6"] + argv[2:]) == 0
    assert load_front(out).raw["study"]["trials"] == 6


def test_optimizer_rejects_bad_objectives(tmp_path, capsys):
    assert main(["--objectives", "gmacs,latency", "--out", str(tmp_path / "f.yaml")]) == 2
    assert "--objectives" in capsys.readouterr().err


@pytest.fixture(scope="module")
def shipped():
    front = load_bundle("default").front(4)
    link = load_bundle("default").link(front.rate)
    data = load_embedded_eval()
    n = front.raw["study"]["search_images"]
    x = link.preprocess(list(data.images[:n]))
    return front, link, x, torch.as_tensor(data.labels[:n])


def test_shipped_front_comes_from_a_real_study(shipped):
    front = shipped[0]
    assert front.raw["study"]["trials"] >= 150
    assert {"S1", "S2", "S3"} <= set(front.operating_points)


def test_no_baseline_dominates_the_shipped_front(shipped):
    """Recomputed here on the search images: front schedules against uniform and random ones."""
    front, link, x, y = shipped

    def measure(ratios):
        r = evaluate(link, x, y, MergeSchedule(ratios=ratios))
        return {"accuracy": r.accuracy, "gmacs": r.gmacs}
    pts = [measure(c.ratios) for c in front.configurations]
    base = [measure([r] * link.depth) for r in UNIFORM_RATIOS]
    base += [measure(b["ratios"]) for b in front.raw["baselines"] if b["name"].startswith("random")]
    for p in pts:
        assert not any(dominates(b, p, ("accuracy", "gmacs")) for b in base)
    ref = front.raw["hypervolume"]["reference"]
    uniform = base[:len(UNIFORM_RATIOS)] + [measure([0.0] * link.depth)]
    assert hypervolume_2d(pts, 0.0, ref["gmacs"]) > hypervolume_2d(uniform, 0.0, ref["gmacs"])


def test_hardware_aware_study_optimises_measured_latency(tmp_path, capsys):
    out = tmp_path / "front.yaml"
    argv = ["--objectives", "accuracy,latency", "--trials", "5", "--n-images", "60", "--final-images", "60",
            "--random", "2", "--snr-grid", "20", "--out", str(out)]
    assert main(argv) == 0
    front = load_front(out)
    assert front.raw["objectives"] == ["accuracy", "latency"]
    assert front.raw["operating_point_rules"]["S2_cost"] == "latency_ms"
    confs = front.raw["configurations"]
    assert all(c["latency_ms"] > 0 and c["latency_spread"] >= 0 for c in confs + front.raw["baselines"])
    timing = front.raw["timing"]
    assert timing["trial_reference_ms_range"][0] > 0 and "trial_latency_spread_median" in timing
    assert all(c.latency_ms > 0 for c in front.configurations)          # parsed by the runtime too
    # S2 is chosen by measured time: the fastest configuration above the accuracy floor
    floor = front.raw["operating_point_rules"]["S2_accuracy_floor"]
    eligible = [c for c in confs if c["accuracy"] >= floor]
    fastest = min(eligible, key=lambda c: (c["latency_ms"], -c["accuracy"]))
    assert front.raw["operating_points"]["S2"] == fastest["name"]
