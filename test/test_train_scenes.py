"""semcom-train-scenes end to end on a tiny pool: a bundle a camera can use, and a checkpoint that resumes."""
import json
import subprocess
import sys

import numpy as np
import torch

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.data.scene_sets import scene_generator
from semcom_ros.core.link.semantic_link import SemanticLink
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.tools.cli_common import bundle_images

ARGS = ["--arch", "robot", "--pool", "24", "--samples", "48", "--batch", "8", "--checkpoint-every", "2",
        "--eval-scenes", "16", "--threads", "1"]


def train(work, bundle):
    out = subprocess.run([sys.executable, "-m", "semcom_ros.tools.train_scenes", *ARGS, "--work", str(work),
                          "--bundle", str(bundle)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def test_a_tiny_run_writes_a_bundle_for_camera_frames_and_resumes_from_its_checkpoint(tmp_path):
    first = train(tmp_path / "work" / "run", tmp_path / "a")
    card = json.loads(first.stdout.strip().splitlines()[-1])
    assert card["arch"] == "robot" and card["measured"]["eval_scenes"] == 16
    assert sorted(p.name for p in (tmp_path / "work" / "pool").glob("*.npz")) == ["eval_16.npz", "pool_000000.npz"]
    bundle = load_bundle(tmp_path / "a")
    assert bundle.preprocess_config["crop_mode"] == "squash" and bundle.preprocess_config["input_size"] == [3, 72, 96]
    assert bundle.eval_images == "scenes"          # tools and benchmarks score it on scenes, not on garments
    views = bundle_images(bundle, 4)
    assert views.images.shape == (4, 72, 96, 3) and len(views.labels) == 4
    link = SemanticLink(bundle.load_model())
    frame = scene_generator("eval").scene(0).image                      # a 640x480 camera frame
    x = link.preprocess([frame])
    assert x.shape == (1, 3, 72, 96)
    link.schedule = MergeSchedule(ratios=[0.2] * link.depth)
    edge = link.edge(x)
    assert edge.tokens_per_layer[-1] < 108                              # 9 x 12 patches, merged
    assert torch.isfinite(link.server(edge.tokens, edge.sizes)).all()
    # the same command again finds the finished checkpoint and exports the same weights, without the pool
    (tmp_path / "work" / "pool" / "pool_000000.npz").unlink()
    again = train(tmp_path / "work" / "run", tmp_path / "b")
    assert not (tmp_path / "work" / "pool" / "pool_000000.npz").exists()
    assert "resumed at step 6/6" in again.stdout + again.stderr
    a, b = load_bundle(tmp_path / "a").load_model().model, load_bundle(tmp_path / "b").load_model().model
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not np.isnan(card["measured"]["eval_scene_accuracy"])
