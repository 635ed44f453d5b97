"""The baseline node and quantized symbols across OS processes, at 640x480 as a team's camera sends them.

A camera-driver process publishes 640x480 frames; the nodes run as their own
processes; this process watches their outputs (see test_camera_streams).
"""
import sys
from pathlib import Path

import numpy as np
from sensor_msgs.msg import PointCloud2

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.core.data.frame_sources import camera_frame
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.nodes.base import NEWEST_FRAME
from semcom_ros.nodes.msg_convert import array_to_compressed, compressed_to_array
from semcom_ros.nodes.symbol_cloud import format_of

sys.path.insert(0, str(Path(__file__).parent))
from camera_driver import core_labels  # noqa: E402
from test_camera_streams import System  # noqa: E402

SIZE = (640, 480)


def full_model_labels(indices) -> dict[int, int]:
    """What the whole model says of the frames as they arrive: the driver's JPEG (quality 90), decoded."""
    link = load_bundle("default").link(None)
    link.schedule = MergeSchedule(ratios=[0.0] * link.depth)      # as the classifier node runs it
    data = load_embedded_eval()
    frames = [compressed_to_array(array_to_compressed(camera_frame(data.images[i], *SIZE), fmt="jpeg"))
              for i in indices]
    logits, _ = link.classify(link.preprocess(frames))
    return dict(zip(indices, logits.argmax(-1).tolist()))


def test_classifier_answers_compressed_camera_frames_as_the_whole_model_does_and_survives_broken_ones():
    system = System({"semcom_classifier": {"image_transport": "compressed"}}, tuned="semcom_classifier")
    try:
        system.wait_ready()
        done = system.drive("--frames", "30", "--rate", "10", "--size", "x".join(map(str, SIZE)),
                            "--transport", "compressed", "--corrupt-every", "10")
        got = system.watcher.classified(0, 30)
        broken = {9, 19, 29}
        assert done["published"] == 30
        assert set(got) <= set(range(30)) - broken and len(got) >= 25, sorted(got)
        assert {i: int(v["class_id"]) for i, v in got.items()} == full_model_labels(sorted(got))
        system.spin_until(lambda: system.watcher.counter("semcom_classifier", "bad_images") >= 3, 5)
        assert system.watcher.counter("semcom_classifier", "bad_images") == 3
        assert not system.dead()
    finally:
        codes = system.close()
    assert codes == {"semcom_classifier": 0}


def test_quantized_symbols_travel_and_are_read_per_frame_and_the_format_changes_at_run_time():
    nodes = {"semcom_camera": {"viz_rate_hz": 0.0, "symbol_format": "int8", "configuration": "S1"},
             "semcom_channel": {"snr_db": 30.0}, "semcom_server": {}}
    system = System(nodes)
    layouts = []
    system.watcher.create_subscription(PointCloud2, "received_symbols", lambda m: layouts.append(
        (int(m.header.frame_id), format_of(m)[0].name, m.point_step, len(m.data))), NEWEST_FRAME)
    m = load_bundle("default").front(4).get("S1").rate
    try:
        system.wait_ready()
        frame_bytes = {}
        for fmt, first in (("int8", 0), ("int4", 100), ("coded8", 200)):
            if fmt != "int8":
                system.set_camera(symbol_format=fmt)
            done = system.drive("--frames", "40", "--rate", "10", "--size", "x".join(map(str, SIZE)),
                                "--start-index", str(first))
            got = system.watcher.classified(first, 40)
            assert done["published"] == 40 and len(got) >= 36, f"{fmt}: {len(got)} of 40 classified: {system.dead()}"
            # the channel re-sends what it got in the camera's format: 2 (int8) or 1 (int4) bytes a symbol + 8
            # a record, or (coded8) one coded blob, a byte a record
            seen = {(f, step) for i, f, step, _ in layouts if first <= i < first + 40}
            assert seen == {(fmt, {"int8": 2 * m + 8, "int4": m + 8, "coded8": 1}[fmt])}, seen
            frame_bytes[fmt] = np.mean([n for i, _, _, n in layouts if first <= i < first + 40])
            expected = core_labels("default", sorted(got), SIZE)
            agree = np.mean([int(got[i]["class_id"]) == expected[i] for i in got])
            assert agree >= (0.8 if fmt == "int4" else 0.95), (fmt, agree)
        assert frame_bytes["coded8"] < 0.8 * frame_bytes["int8"], frame_bytes
        assert system.watcher.counter("semcom_server", "bad_frames") == 0
    finally:
        codes = system.close()
    assert codes == {n: 0 for n in nodes}


def test_an_h264_stream_from_image_source_is_decoded_in_order_and_classified_across_processes():
    """image_source sends the 640x480 shelf as H.264 in CompressedImage; the classifier decodes it frame by frame."""
    from sensor_msgs.msg import CompressedImage

    from semcom_ros.nodes.base import image_qos

    nodes = {"image_source": {"source": "scenes", "speed": 1.0, "rate_hz": 10.0, "transport": "compressed",
                              "compressed_format": "h264", "video_gop": 5},
             "semcom_classifier": {"image_transport": "compressed"}}
    system = System(nodes, tuned="semcom_classifier")
    seen = []
    system.watcher.create_subscription(CompressedImage, "image/compressed",
                                       lambda m: seen.append((m.format, len(m.data))), image_qos("best_effort"))
    try:
        system.wait_ready()
        system.spin_until(lambda: len(system.watcher.results) >= 40, 60)
        assert len(system.watcher.results) >= 40, f"{len(system.watcher.results)} classified, {len(seen)} sent"
        assert {f for f, _ in seen} == {"h264"} and len(seen) >= 40
        sizes = [n for _, n in seen]
        assert max(sizes) < 640 * 480 * 3 / 10                      # coded, not raw
        assert max(sizes) > 2 * np.median(sizes)                    # I-frames stand out of the P-frames
        assert system.watcher.counter("semcom_classifier", "bad_images") == 0
        # joining a stream mid-GOP, a receiver waits for the next I-frame: at most a GOP of frames
        assert system.watcher.counter("semcom_classifier", "frames_undecodable") <= 5
        assert not system.dead()
    finally:
        codes = system.close()
    assert codes == {n: 0 for n in nodes}
