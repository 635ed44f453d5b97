"""The robot-size alternative: it costs the robot no more than a split's edge part, and the comparison runs."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from semcom_ros.core.link.digital_link import CQI_TABLE, choose_mcs, mcs_uses
from semcom_ros.core.model.macs import VitShape, edge_macs, macs, scheduled_token_counts
from semcom_ros.core.model.models import build_model
from semcom_ros.tools.train_scenes import ARCHITECTURE, ARCHS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("split,ratio", [(1, 0.0), (2, 0.0), (2, 0.2), (3, 0.2)])
def test_the_robot_size_model_costs_no_more_macs_than_the_split_edge_part(split, ratio):
    scene = VitShape.of(build_model(ARCHITECTURE, ARCHS["scene"]))
    robot = VitShape.of(build_model(ARCHITECTURE, ARCHS["robot"]))
    counts = scheduled_token_counts(scene, [ratio] * split + [0.0] * (scene.depth - split))
    edge = edge_macs(scene, counts, split, jscc_hidden=2 * scene.dim, symbols_per_token=4)
    assert macs(robot) <= edge
    assert macs(robot) < macs(scene) / 4           # and it is a different class of model, not the same one


def run(args, timeout=600):
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_equal_compute_scores_every_scheme_on_the_same_scenes(tmp_path):
    tiny = ["--arch", "robot", "--pool", "16", "--samples", "16", "--batch", "8", "--eval-scenes", "8",
            "--threads", "1"]
    run(["-m", "semcom_ros.tools.train_scenes", *tiny, "--work", str(tmp_path / "w" / "run"),
         "--bundle", str(tmp_path / "model")])
    for split in (1, 2):
        run(["-m", "semcom_ros.tools.bundle", "copy", str(tmp_path / "model"), str(tmp_path / f"s{split}")])
        run(["-m", "semcom_ros.tools.train_jscc", "--bundle", str(tmp_path / f"s{split}"), "--images",
             "scenes-train", "--limit", "32", "--rates", "4", "--split", str(split), "--steps", "2",
             "--batch", "8", "--threads", "1"])
    out = tmp_path / "eq.json"
    printed = run(["benchmarks/equal_compute.py", "--split-bundles", f"1:{tmp_path / 's1'},2:{tmp_path / 's2'}",
                   "--robot-bundle", str(tmp_path / "model"), "--first", "0", "--n-images", "40",
                   "--jpeg-frames", "8", "--rounds", "1", "--snrs=-5,20", "--ratio", "0.2", "--threads", "1",
                   "--out", str(out)]).stdout
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert "| split link S1 + server |" in printed
    split_rows = [rows["split link S1 + server"], rows["split link S2 + server"]]
    # channel uses of a split link: the tokens it sends at 4 symbols each, plus 16 pilots
    shape = VitShape.of(build_model(ARCHITECTURE, ARCHS["robot"]))
    for split, row in zip((1, 2), split_rows):
        sent = scheduled_token_counts(shape, [0.2] * split + [0.0] * (shape.depth - split))[split - 1] + 1
        assert row["channel_uses"] == [sent * 4 + 16] * 2
    assert split_rows[1]["robot_mmacs"] > split_rows[0]["robot_mmacs"]
    label = rows["robot-size model + label"]
    # a 4-bit label: the uses the MCS picked at each SNR needs (AWGN: the SNR is known)
    assert label["channel_uses"] == [mcs_uses(4, choose_mcs(s)) for s in (-5, 20)]
    # the same label at the most robust MCS: that entry's uses at every SNR, and on AWGN above its
    # threshold (-6.7 dB) every frame arrives, so its accuracy is the robot-size model's
    robust = rows["robot-size model + label at the most robust MCS"]
    assert robust["channel_uses"] == [mcs_uses(4, min(CQI_TABLE, key=lambda m: m.threshold_db))] * 2
    assert robust["accuracy"] == [label["accuracy"][1]] * 2 and robust["robot_mmacs"] == label["robot_mmacs"]
    image = next(v for k, v in rows.items() if k.startswith("image to the server"))
    assert image["robot_mmacs"] == 0.0 and image["channel_uses"][0] > image["channel_uses"][1]
    for row in rows.values():
        assert all(0.0 <= a <= 1.0 for a in row["accuracy"]) and row["robot_ms"] > 0
