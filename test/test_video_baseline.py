"""The video baseline scores a stream as the server's decoder outputs it from the packets that arrived."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from video_baseline import Received, cell, classify  # noqa: E402

from semcom_ros.core.bundle.bundle import load_bundle  # noqa: E402
from semcom_ros.core.data.scene_sets import shelf_stream  # noqa: E402
from semcom_ros.core.data.video_codec import VideoSettings, decode_stream, encode_stream  # noqa: E402
from semcom_ros.core.link.digital_link import choose_mcs, mcs_uses  # noqa: E402

FRAMES = 14


def stream():
    s = shelf_stream(0.5)
    frames, labels = zip(*(s.frame(t) for t in range(FRAMES)))
    return list(frames), labels


def test_a_lost_i_frame_blanks_the_stream_until_the_next_one_and_nothing_else():
    frames, _ = stream()
    settings = VideoSettings("h264", gop=10, crf=28)
    packets = encode_stream(frames, settings)
    link = load_bundle("default").link(4)
    received = Received(link, settings, packets)
    everything = received.predictions(np.ones(FRAMES, bool))
    np.testing.assert_array_equal(everything, classify(link, decode_stream(packets, [True] * FRAMES)))
    lost_first = np.ones(FRAMES, bool)
    lost_first[0] = False
    pred = received.predictions(lost_first)
    assert (pred[:10] == -1).all() and (pred[10:] >= 0).all()      # P-frames without their I-frame show nothing
    assert received.predictions(lost_first) is pred                  # one decode per arrival pattern


def test_a_scheme_scores_only_labelled_frames_and_loses_frames_that_do_not_fit():
    frames, labels = stream()
    settings = VideoSettings("h264", gop=10, crf=28)
    packets = encode_stream(frames, settings)
    bits = np.array([8 * len(p.data) for p in packets])
    link = load_bundle("default").link(4)
    video = {"name": settings.label, "bits": bits, "received": Received(link, settings, packets), "gop": 10}
    y = np.array([-1 if lab is None else lab for lab in labels])
    scored = np.array([lab is not None for lab in labels])
    eff = np.full(FRAMES, 30.0)
    full = video["received"].predictions(np.ones(FRAMES, bool))
    assert cell(video, y, eff, 1e9, scored)[0] == (full == y)[scored].mean()
    assert cell(video, y, eff, 1, scored) == (0.0, 0.0)               # one channel use carries no frame
    jpeg_like = {"name": "x", "bits": bits, "pred": full}
    mcs = choose_mcs(30.0)                                            # what the transmitter picks at 30 dB
    n = float(np.median([mcs_uses(int(b), mcs) for b in bits]))      # half the frames fit
    accuracy, holding = cell(jpeg_like, y, eff, n, scored)
    arrived = np.array([mcs_uses(int(b), mcs) <= n for b in bits])
    assert 0 < arrived.sum() < FRAMES
    assert accuracy == ((full == y) & arrived)[scored].mean() and holding >= accuracy
