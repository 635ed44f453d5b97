"""The robot-view scenes (METHOD §9): determinism, train/test separation, labels, the stream's overlap.

The last test runs image_source with ``source:=scenes`` as its own process at
640x480 and checks each received frame against the stream rendered here.
"""
import hashlib
import subprocess
import time

import numpy as np
import pytest

from semcom_ros.core.data.backgrounds import KINDS, Background
from semcom_ros.core.data.datasets import ImageSet, load_embedded_eval, load_fashion_mnist
from semcom_ros.core.data.scene_sets import EVAL_SEED, TRAIN_SEED, scene_garments, scene_generator, shelf_stream
from semcom_ros.core.data.scenes import DISTRACTOR_GAP, HEIGHT_RANGE, MAX_COVER, SceneGenerator
from semcom_ros.core.data.shelf_stream import ShelfStream

W, H = 640, 480


@pytest.fixture(scope="module")
def eval_scenes():
    return scene_generator("eval")


def solid(label: int, value: int) -> ImageSet:
    """One garment: a 28x28 square of one grey value (0 is below the mask threshold: invisible)."""
    return ImageSet(np.full((1, 28, 28), value, np.uint8), np.array([label]), tuple(str(i) for i in range(10)))


def test_a_scene_is_the_same_image_every_time(eval_scenes):
    again = scene_generator("eval")
    for i in (0, 17, 2999):
        a, b = eval_scenes.scene(i), again.scene(i)
        assert a.image.shape == (H, W, 3) and a.image.dtype == np.uint8
        assert np.array_equal(a.image, b.image) and a.label == b.label and a.target == b.target
    other = SceneGenerator(eval_scenes.garments, seed=EVAL_SEED + 1)
    assert not np.array_equal(other.scene(0).image, eval_scenes.scene(0).image)
    assert not np.array_equal(eval_scenes.scene(1).image, eval_scenes.scene(2).image)


def test_training_and_evaluation_scenes_share_no_garment():
    train, held = scene_garments("train"), scene_garments("eval")
    assert len(train) == 60000 and len(held) == 3000
    test_split = load_fashion_mnist("t10k")
    assert np.array_equal(held.images, test_split.images[:3000])        # evaluation garments are test images
    train_hashes = {hashlib.sha1(img.tobytes()).digest() for img in train.images}
    shared = sum(hashlib.sha1(img.tobytes()).digest() in train_hashes for img in held.images)
    assert shared == 0
    assert TRAIN_SEED != EVAL_SEED
    with pytest.raises(ValueError, match="unknown scene split"):
        scene_garments("test")


def test_every_item_comes_from_the_split_it_was_built_from(eval_scenes):
    n = len(eval_scenes.garments)
    for i in range(0, 300, 7):
        s = eval_scenes.scene(i)
        assert s.target.garment == i % n
        for item in (s.target, *s.distractors):
            assert 0 <= item.garment < n and item.label == eval_scenes.garments.labels[item.garment]


def test_the_label_is_the_target_in_the_central_third_and_distractors_sit_farther_out(eval_scenes):
    counts = []
    for i in range(200):
        s = eval_scenes.scene(i)
        t = s.target
        assert s.label == t.label
        assert W / 3 <= t.cx <= 2 * W / 3 and H / 3 <= t.cy <= 2 * H / 3
        assert HEIGHT_RANGE[0] * H <= t.height <= HEIGHT_RANGE[1] * H and abs(t.angle) <= 15
        d_target = np.hypot(t.cx - W / 2, t.cy - H / 2)
        for d in s.distractors:
            assert np.hypot(d.cx - W / 2, d.cy - H / 2) >= d_target + DISTRACTOR_GAP * H - 1e-6
        assert 0.0 <= s.covered <= MAX_COVER + 1e-9
        counts.append(len(s.distractors))
    assert min(counts) == 0 and max(counts) >= 3                  # 0-4 distractors, all kinds show up
    assert len({eval_scenes.scene(i).label for i in range(200)}) == 10


def test_the_target_is_drawn_where_the_scene_says():
    """The same scene with a visible and an invisible garment: the difference is the item, at the target."""
    shown, hidden = SceneGenerator(solid(3, 255), seed=5), SceneGenerator(solid(3, 0), seed=5)
    checked = 0
    for i in range(40):
        s = shown.scene(i)
        if s.distractors:
            continue
        diff = np.abs(s.image.astype(int) - hidden.scene(i).image.astype(int)).max(axis=2) > 2   # same noise in both
        ys, xs = np.nonzero(diff)
        assert abs(xs.mean() - s.target.cx) < 4 and abs(ys.mean() - s.target.cy) < 4
        side = np.sqrt(diff.sum())                                  # a turned square of the item's height
        assert 0.8 * s.target.height < side < 1.2 * s.target.height
        checked += 1
    assert checked >= 5


def test_model_view_scene_sets_are_cached_and_a_changed_generator_does_not_read_the_cache(tmp_path, monkeypatch):
    from semcom_ros.core.data import scene_sets

    monkeypatch.setenv("SEMCOM_CACHE", str(tmp_path))
    first = scene_sets.scene_images("eval", 3, (24, 32))
    files = list(tmp_path.glob("scenes_eval_3_32x24_*.npz"))
    assert len(files) == 1
    rendered, labels = scene_sets.render(scene_generator("eval"), range(3), (24, 32))
    np.testing.assert_array_equal(first.images, rendered)
    np.testing.assert_array_equal(first.labels, labels)
    np.savez(files[0], images=np.zeros_like(rendered), labels=labels)       # the cache is what is read
    assert scene_sets.scene_images("eval", 3, (24, 32)).images.max() == 0
    monkeypatch.setattr(scene_sets, "generator_version", lambda: "changed")
    assert scene_sets.scene_images("eval", 3, (24, 32)).images.max() > 0
    monkeypatch.setenv("SEMCOM_CACHE", "off")
    scene_sets.scene_images("eval", 2, (24, 32))
    assert not list(tmp_path.glob("scenes_eval_2_*"))


def test_backgrounds_cover_every_kind_and_differ():
    bg = Background(W, H)
    rng = np.random.default_rng(0)
    means = []
    for kind in KINDS:
        img = bg.sample(rng, kind)
        assert img.shape == (H, W, 3) and np.isfinite(img).all() and img.std() > 3
        means.append(img.mean())
    assert len(set(np.round(means))) == len(KINDS)


def test_the_stream_pans_frames_that_overlap():
    stream = shelf_stream(speed=0.5)
    shift = round(0.5 * W / 10)                                     # 32 px a frame at 0.5 m/s, 10 frames/s
    a, b = stream.frame(20)[0].astype(float), stream.frame(21)[0].astype(float)
    same_place = np.abs(a[:, shift:] - b[:, :-shift]).mean()
    same_pixel = np.abs(a - b).mean()
    assert same_place < 0.5 * same_pixel
    assert np.array_equal(stream.frame(20)[0], shelf_stream(speed=0.5).frame(20)[0])
    still = shelf_stream(speed=0.0)
    assert np.abs(still.frame(3)[0].astype(float) - still.frame(4)[0].astype(float)).mean() < 12   # noise only


def test_stream_labels_follow_the_item_at_the_centre():
    stream = shelf_stream(speed=0.5)
    labels = [stream.label(t) for t in range(300)]
    scored = [x for x in labels if x is not None]
    assert 0.3 < len(scored) / len(labels) < 0.95                   # gaps between items are not scored
    assert len(set(scored)) >= 6
    assert sum(a != b for a, b in zip(labels, labels[1:])) >= 10  # the label changes as items pass the centre
    for t in range(0, 300, 3):
        items = stream.visible(t)
        cx = stream.offset(t) + W / 2
        inside = [it for it in items if abs(it.cx - cx) <= W / 6 and abs(it.cy - H / 2) <= H / 6]
        if labels[t] is None:
            assert not inside
        else:
            assert labels[t] in {it.label for it in inside}


def test_a_labelled_stream_frame_shows_its_item_in_the_centre():
    shown, hidden = ShelfStream(solid(4, 255), seed=2, speed=1.0), ShelfStream(solid(4, 0), seed=2, speed=1.0)
    seen = 0
    for t in range(40):
        frame, label = shown.frame(t)
        if label is None:
            continue
        diff = np.abs(frame.astype(int) - hidden.frame(t)[0].astype(int)).max(axis=2) > 40
        assert diff[H // 3:2 * H // 3, W // 3:2 * W // 3].any()
        seen += 1
    assert seen >= 10


def test_bad_stream_settings_are_refused():
    garments = load_embedded_eval()
    for kw in ({"speed": -1.0}, {"speed": float("nan")}, {"fps": 0.0}):
        with pytest.raises(ValueError):
            ShelfStream(garments, **kw)
    with pytest.raises(ValueError):
        SceneGenerator(ImageSet(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), ()))


def test_image_source_streams_the_shelf_across_processes_at_640x480():
    """image_source as its own process, source:=scenes: 640x480 frames equal to the stream, labels with them."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from semcom_ros.nodes import system
    from semcom_ros.nodes.base import RELIABLE
    from semcom_ros.nodes.msg_convert import image_to_array

    procs = system.spawn({"image_source": {"source": "scenes", "speed": 1.0, "rate_hz": 10.0}},
                         names=("image_source",), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rclpy.init()
    node = rclpy.create_node("scene_watcher")
    frames, truth = {}, {}
    node.create_subscription(Image, "image", lambda m: frames.setdefault(
        (m.header.stamp.sec, m.header.stamp.nanosec), m), qos_profile_sensor_data)
    node.create_subscription(DiagnosticArray, "ground_truth", lambda m: truth.setdefault(
        (m.header.stamp.sec, m.header.stamp.nanosec), {kv.key: kv.value for kv in m.status[0].values}), RELIABLE)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and len(set(frames) & set(truth)) < 12 and procs["image_source"].poll() is None:
            executor.spin_once(timeout_sec=0.1)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
        codes = system.stop(procs)
    both = sorted(set(frames) & set(truth))
    assert len(both) >= 12, procs["image_source"].stderr.read().decode()[-2000:]
    assert codes == {"image_source": 0}
    stream = shelf_stream(speed=1.0, fps=10.0)
    for key in both[:6]:
        msg, gt = frames[key], truth[key]
        assert (msg.width, msg.height, msg.encoding) == (640, 480, "rgb8")
        t = int(gt["index"])
        expected, label = stream.frame(t)
        assert np.array_equal(image_to_array(msg), expected)
        assert int(gt["class_id"]) == label


def test_rendering_on_several_cores_gives_the_same_scenes():
    from semcom_ros.core.data.scene_sets import render, render_parallel

    images, labels = render_parallel("eval", 7, (24, 32), chunk=3)
    expected, expected_labels = render(scene_generator("eval"), range(7), (24, 32))
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(labels, expected_labels)
