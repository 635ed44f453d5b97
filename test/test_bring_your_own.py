"""A team's own ViT end to end: bundle -> JSCC codes -> front -> evaluation -> ROS nodes as processes.

The model differs from the built-in one in every way that matters: RGB input,
48 px input and 8 px patches (36 tokens instead of 64), a distillation token
(two prefix tokens), width 96, 4 blocks, and the edge/server split after
block 3 so the server runs a transformer block too. It is trained briefly
here on an ImageFolder the test writes from the embedded images, saved as a
training loop would (a torch file with the weights under ``model``).
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
import rclpy
import torch
import torch.nn.functional as F
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.core.data.frame_sources import camera_frame
from semcom_ros.nodes import system
from semcom_ros.nodes.base import RELIABLE
from semcom_ros.tools.bundle import main as bundle_main
from semcom_ros.tools.evaluate import main as eval_main
from semcom_ros.tools.optimize import main as optimize_main
from semcom_ros.tools.train_jscc import main as train_jscc_main

sys.path.insert(0, str(Path(__file__).parent))
from camera_driver import core_labels  # noqa: E402

DRIVER = Path(__file__).parent / "camera_driver.py"
ARCH = ["--model", "deit_tiny_distilled_patch16_224", "--model-arg", "img_size=48", "--model-arg", "patch_size=8",
        "--model-arg", "depth=4", "--model-arg", "embed_dim=96", "--model-arg", "num_heads=3"]


def write_image_folder(root: Path, n: int = 600) -> Path:
    """Embedded Fashion-MNIST items as 64x48 RGB photos, one sub-folder per class."""
    data = load_embedded_eval()
    for i in range(n):
        name = data.class_names[data.labels[i]].replace("/", "-")
        (root / name).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / name / f"{i:04d}.png"), camera_frame(data.images[i], 64, 48))
    return root


def train_briefly(bundle_path: Path, images: Path, out: Path, steps: int = 300) -> None:
    from semcom_ros.core.data.datasets import load_image_folder

    loaded = load_bundle(bundle_path).load_model()
    data = load_image_folder(images)
    x = torch.stack([loaded.preprocess(img) for img in data.images])
    y = torch.as_tensor(data.labels)
    model = loaded.model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        idx = torch.randint(0, len(y), (32,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.save({"model": model.state_dict(), "epoch": 1}, out)


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """create -> (train the ViT) -> create from its checkpoint -> train JSCC -> optimise, timed."""
    root = tmp_path_factory.mktemp("own")
    images = write_image_folder(root / "images")
    seconds = {}
    t = time.monotonic()
    assert bundle_main(["create", str(root / "untrained"), *ARCH, "--images", str(images)]) == 0
    train_briefly(root / "untrained", images, root / "finetuned.pth")
    bundle = root / "bundle"
    assert bundle_main(["create", str(bundle), *ARCH, "--images", str(images),
                        "--checkpoint", str(root / "finetuned.pth")]) == 0
    seconds["create"] = time.monotonic() - t
    t = time.monotonic()
    assert train_jscc_main(["--bundle", str(bundle), "--images", str(images), "--rates", "2,4", "--steps", "150",
                            "--batch", "32", "--split", "3", "--threads", "2"]) == 0
    seconds["jscc"] = time.monotonic() - t
    t = time.monotonic()
    assert optimize_main(["--bundle", str(bundle), "--images", str(images), "--trials", "8", "--n-images", "200",
                          "--random", "2", "--snr-grid", "-5,20", "--threads", "2"]) == 0
    seconds["front"] = time.monotonic() - t
    print(f"own bundle made in {seconds}")
    return bundle, images


def test_bundle_holds_every_part_and_the_card_says_how(own, capsys):
    bundle_path, _ = own
    capsys.readouterr()
    assert bundle_main(["show", str(bundle_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["complete"] and not shown["problems"]
    assert [e["step"] for e in shown["card"]] == ["create", "jscc", "front"]
    assert "finetuned.pth" in shown["card"][0]["weights"]
    assert shown["card"][1]["channels"] == ["awgn", "rayleigh", "rician", "gilbert_elliott"]   # the default mixture
    bundle = load_bundle(bundle_path)
    assert bundle.rates == [2, 4] and bundle.jscc_entry(4)["split"] == 3
    link = bundle.link(4)
    assert link.model.num_prefix_tokens == 2 and link.shape.num_patches == 36 and link.split == 3
    front = bundle.front(4, link.depth, 36)
    assert front.raw["tokens"] == 36 and {"S1", "S2", "S3"} <= set(front.operating_points)


def test_evaluation_beats_chance_through_the_channel(own, capsys):
    bundle_path, images = own
    capsys.readouterr()
    assert eval_main(["--bundle", str(bundle_path), "--images", str(images), "--policy", "S1",
                      "--snr-sweep", "-5:15:10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_images"] == 600 and set(report["accuracy_by_snr"]) == {"-5.0", "5.0", "15.0"}
    assert report["accuracy"] > 0.3 and report["accuracy_by_snr"]["15.0"] > 0.3      # 10 classes: chance is 0.1


def test_ros_nodes_load_the_bundle_and_classify_camera_frames(own):
    bundle_path, _ = own
    common = {"bundle": str(bundle_path), "rate": 4}
    nodes = {"semcom_camera": {**common, "viz_rate_hz": 0.0}, "semcom_channel": {"snr_db": 60.0},
             "semcom_server": common}
    procs = system.spawn(nodes, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rclpy.init()
    watcher = rclpy.create_node("own_bundle_watcher")
    results, status = [], {}
    watcher.create_subscription(DiagnosticArray, "classification", results.append, RELIABLE)
    watcher.create_subscription(DiagnosticArray, "/diagnostics",
                                lambda m: status.update({s.name: s for s in m.status}), RELIABLE)
    executor = SingleThreadedExecutor()
    executor.add_node(watcher)

    def spin_until(cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not cond():
            executor.spin_once(timeout_sec=0.05)
        return cond()

    try:
        dead = lambda: [n for n, p in procs.items() if p.poll() is not None]  # noqa: E731
        assert spin_until(lambda: set(nodes) <= set(status) or dead(), 180) and not dead(), \
            {n: procs[n].stderr.read().decode()[-2000:] for n in dead()}
        driver = subprocess.Popen([sys.executable, str(DRIVER), "--frames", "30", "--rate", "10", "--size", "640x480",
                                   "--start-index", "2000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert spin_until(lambda: driver.poll() is not None, 180)
        assert driver.returncode == 0, driver.stderr.read().decode()[-2000:]
        spin_until(lambda: False, 2.0)
    finally:
        codes = system.stop(procs)
        executor.shutdown()
        watcher.destroy_node()
        rclpy.shutdown()
    assert codes == {n: 0 for n in nodes}, codes
    got = {int(m.header.frame_id): {kv.key: kv.value for kv in m.status[0].values} for m in results}
    got = {i: v for i, v in got.items() if 2000 <= i < 2030}
    assert len(got) >= 28, f"{len(got)} of 30 frames classified"
    names = load_bundle(bundle_path).class_names
    assert all(v["label"] == names[int(v["class_id"])] for v in got.values())
    assert all(v["tokens"] and int(v["tokens"]) <= 38 for v in got.values())       # 36 patches + 2 prefix tokens
    want = core_labels(bundle_path, sorted(got), (640, 480))
    agree = sum(int(v["class_id"]) == want[i] for i, v in got.items())
    assert agree >= 0.9 * len(got), f"{agree} of {len(got)} labels match the core's"


def test_a_bundle_that_cannot_load_stops_the_node_with_the_reason(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "semcom_ros.nodes.server", "--ros-args", "-p",
                           f"bundle:={tmp_path / 'nothing'}"], capture_output=True, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "cannot start" in err and "is not a bundle" in err, err[-2000:]
    proc = subprocess.run([sys.executable, "-m", "semcom_ros.nodes.camera", "--ros-args", "-p", "rate:=3"],
                          capture_output=True, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "no JSCC code for rate 3" in err and "Traceback" not in err, err[-2000:]
