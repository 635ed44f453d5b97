"""sensor_msgs/Image and PointCloud2 conversion, including the malformed cases."""

import numpy as np
import pytest
from sensor_msgs.msg import Image

from semcom_ros.core.model.merge_viz import render_partition
from semcom_ros.core.link.snr_profiles import SnrProfile, load_trace
from semcom_ros.nodes.msg_convert import MessageError, array_to_image, image_to_array
from semcom_ros.nodes.symbol_cloud import cloud_to_symbols, format_of, symbols_to_cloud

RGB = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


def raw_image(arr, encoding, pad=0, bigendian=False):
    msg = Image(height=arr.shape[0], width=arr.shape[1], encoding=encoding, is_bigendian=int(bigendian))
    rows = arr.reshape(arr.shape[0], -1).view(np.uint8)
    rows = np.concatenate([rows, np.zeros((arr.shape[0], pad), np.uint8)], axis=1)
    msg.step = rows.shape[1]
    msg.data = rows.tobytes()
    return msg


@pytest.mark.parametrize("encoding,arr", [
    ("rgb8", RGB), ("bgr8", RGB[:, :, ::-1]),
    ("rgba8", np.dstack([RGB, np.full((4, 5), 9, np.uint8)])),
    ("bgra8", np.dstack([RGB[:, :, ::-1], np.full((4, 5), 9, np.uint8)])),
])
def test_colour_encodings_become_rgb(encoding, arr):
    assert np.array_equal(image_to_array(raw_image(np.ascontiguousarray(arr), encoding, pad=3)), RGB)


def test_grey_encodings():
    grey = RGB[:, :, 0].copy()
    assert np.array_equal(image_to_array(raw_image(grey, "mono8")), grey)
    deep = (grey.astype(np.uint16) * 257)
    assert np.array_equal(image_to_array(raw_image(deep, "mono16")), grey)
    assert np.array_equal(image_to_array(raw_image(deep.astype(">u2"), "16UC1", bigendian=True)), grey)


def test_round_trip():
    assert np.array_equal(image_to_array(array_to_image(RGB)), RGB)


@pytest.mark.parametrize("mutate,msg", [
    (lambda m: setattr(m, "encoding", "yuv422"), "unsupported image encoding"),
    (lambda m: setattr(m, "data", m.data[:-1]), "needs"),
    (lambda m: setattr(m, "step", 2), "shorter than"),
    (lambda m: setattr(m, "width", 0), "empty"),
])
def test_malformed_images(mutate, msg):
    m = array_to_image(RGB)
    mutate(m)
    with pytest.raises(MessageError, match=msg):
        image_to_array(m)


def test_symbol_cloud_round_trip():
    rng = np.random.default_rng(0)
    z = (rng.normal(size=12) + 1j * rng.normal(size=12)).astype(np.complex64)
    cloud = symbols_to_cloud(z, [0, 1, 3], 4, config=2)
    assert [f.name for f in cloud.fields] == ["re0", "im0", "re1", "im1", "re2", "im2", "re3", "im3", "size", "config"]
    symbols, sizes, m, config = cloud_to_symbols(cloud)
    assert m == 4 and config == 2
    assert np.array_equal(symbols.reshape(-1), z) and sizes.tolist() == [0, 1, 3]


@pytest.mark.parametrize("mutate,msg", [
    (lambda c: setattr(c, "data", c.data[:-1]), "bytes"),
    (lambda c: c.fields.pop(), "not a channel-symbol cloud"),
    (lambda c: setattr(c.fields[0], "datatype", 8), "does not follow"),
    (lambda c: setattr(c, "point_step", 4), "point_step"),
])
def test_malformed_clouds(mutate, msg):
    cloud = symbols_to_cloud(np.ones(8, np.complex64), [0, 1], 4)
    mutate(cloud)
    with pytest.raises(MessageError, match=msg):
        cloud_to_symbols(cloud)


def test_nan_symbols_are_refused():
    with pytest.raises(MessageError, match="NaN"):
        cloud_to_symbols(symbols_to_cloud(np.array([np.nan] * 4, np.complex64), [0], 4))


def test_merge_visualisation_paints_each_group_its_mean():
    img = np.zeros((4, 4), np.uint8)
    img[:, 2:] = 200
    source = np.zeros((2, 4))          # 2x2 grid: left column -> token 0, right column -> token 1
    source[0, [0, 2]] = 1
    source[1, [1, 3]] = 1
    out = render_partition(img, source, (2, 2), cell=4)
    assert out.shape == (8, 8, 3)
    assert (out[1:7, 0:3] == 0).all() and (out[1:7, 5:8] == 200).all()
    assert (out[:, 4] == 255).all()    # boundary between the two groups


def test_snr_profiles(tmp_path):
    assert SnrProfile("steps", step_times=[0, 5], step_snrs=[0, 20]).at(4.9) == 0
    assert SnrProfile("steps", step_times=[0, 5], step_snrs=[0, 20]).at(5.0) == 20
    sine = SnrProfile("sine", low_db=-5, high_db=25, period_s=10)
    assert sine.at(0) == pytest.approx(-5) and sine.at(5) == pytest.approx(25)
    walk = SnrProfile("random_walk", snr_db=10, low_db=0, high_db=20, seed=3)
    values = [walk.at(t) for t in range(200)]
    assert all(0 <= v <= 20 for v in values) and len(set(values)) > 10
    assert SnrProfile("random_walk", snr_db=10, low_db=0, high_db=20, seed=3).at(150) == values[150]
    trace = tmp_path / "snr.csv"
    trace.write_text("time_s,snr_db\n0,3\n2.5,7\n")
    assert SnrProfile("csv", csv_path=str(trace)).at(3) == 7
    trace.write_text("0,3\n1,abc\n")
    with pytest.raises(ValueError, match="expected 'time_s,snr_db'"):
        load_trace(trace)
    with pytest.raises(ValueError, match="unknown SNR profile"):
        SnrProfile("square")
    with pytest.raises(ValueError, match="same non-zero length"):
        SnrProfile("steps", step_times=[0, 1], step_snrs=[3])


def test_frame_sources_read_folders_and_videos(tmp_path):
    import cv2

    from semcom_ros.core.data.frame_sources import FrameSource

    frames = [np.full((24, 32, 3), v, np.uint8) for v in (40, 200)]
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i}.png"), f)
    src = FrameSource("folder", str(tmp_path), loop=False)
    got = [src.next(), src.next(), src.next()]
    assert [int(g[0].mean()) for g in got[:2]] == [40, 200] and got[2] is None
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (32, 24))
    for f in frames * 2:
        writer.write(f)
    writer.release()
    src = FrameSource("video", str(video), loop=True)
    means = [int(src.next()[0].mean()) for _ in range(6)]   # loops back to the start
    assert abs(means[0] - 40) < 5 and abs(means[1] - 200) < 5 and abs(means[4] - 40) < 5
    embedded = FrameSource("embedded")
    image, label = embedded.next()
    assert image.shape == (28, 28) and 0 <= label < 10
    with pytest.raises(ValueError, match="cannot open"):
        FrameSource("video", str(tmp_path / "missing.avi"))
    with pytest.raises(ValueError, match="no images"):
        FrameSource("folder", str(tmp_path / "empty"))


@pytest.mark.parametrize("fmt,bytes_per_symbol,levels", [("int8", 2, 127), ("int4", 1, 7)])
def test_quantized_symbol_formats_round_trip_within_half_a_step(fmt, bytes_per_symbol, levels):
    rng = np.random.default_rng(1)
    z = (rng.normal(size=40) + 1j * rng.normal(size=40)).astype(np.complex64)
    sizes = [0, 0, 1, 2, 1, 4, 1, 1, 3, 1]
    exact = symbols_to_cloud(z, sizes, 4, config=7)
    cloud = symbols_to_cloud(z, sizes, 4, config=7, fmt=fmt)
    # 2m symbol bytes plus scale (4), size (2) and config (2) per record, against 8 bytes a symbol + 8
    assert cloud.point_step == 4 * bytes_per_symbol + 8 and exact.point_step == 4 * 8 + 8
    symbols, got_sizes, m, config = cloud_to_symbols(cloud)
    assert (m, config, got_sizes.tolist()) == (4, 7, sizes)
    step = max(np.abs(z.real).max(), np.abs(z.imag).max()) / levels
    err = symbols.reshape(-1) - z
    assert np.abs(err.real).max() <= step / 2 + 1e-6 and np.abs(err.imag).max() <= step / 2 + 1e-6
    assert np.abs(err).max() > 0          # quantized: not the float32 symbols again


@pytest.mark.parametrize("fmt,raw,levels", [("coded8", "int8", 127), ("coded4", "int4", 7)])
def test_entropy_coded_symbols_round_trip_as_their_raw_format_in_fewer_bytes(fmt, raw, levels):
    rng = np.random.default_rng(2)
    z = ((rng.normal(size=400) + 1j * rng.normal(size=400)) / np.sqrt(2)).astype(np.complex64)
    sizes = [0] * 4 + [1] * 80 + [2, 3, 1, 1, 4, 1] * 2 + [1] * 4
    coded = symbols_to_cloud(z, sizes, 4, config=5, fmt=fmt)
    plain = symbols_to_cloud(z, sizes, 4, config=5, fmt=raw)
    assert format_of(coded)[0].name == fmt and coded.point_step == 1
    symbols, got_sizes, m, config = cloud_to_symbols(coded)
    reference, _, _, _ = cloud_to_symbols(plain)
    assert (m, config, got_sizes.tolist()) == (4, 5, sizes)
    assert np.array_equal(symbols, reference)                  # the same integers as the raw format, lossless
    step = max(np.abs(z.real).max(), np.abs(z.imag).max()) / levels
    assert np.abs((symbols.reshape(-1) - z).real).max() <= step / 2 + 1e-6
    # no per-record scale, size and config (8 bytes a token), and Gaussian components in fewer bits than
    # the bare integers (~7.2 of 8, ~3.1 of 4 at this peak): under the bare integers plus the header and sizes
    bits = 8 if raw == "int8" else 4
    assert len(coded.data) < 0.6 * len(plain.data)
    assert len(coded.data) < 2 * len(z) * bits / 8 + 64


def test_corrupt_or_truncated_coded_frames_are_refused_with_the_reason():
    z = np.exp(1j * np.arange(32)).astype(np.complex64)
    cloud = symbols_to_cloud(z, [0, 0] + [1] * 6, 4, config=1, fmt="coded8")
    data = bytes(cloud.data)
    cases = {"CRC": data[:-3] + bytes([data[-3] ^ 0x40]) + data[-2:], "header": data[:10],
             "magic": b"XX" + data[2:]}
    for reason, broken in cases.items():
        cloud.data, cloud.width, cloud.row_step = broken, len(broken), len(broken)
        with pytest.raises(MessageError, match="coded channel symbols"):
            cloud_to_symbols(cloud)
    truncated = data[:-4]
    cloud.data, cloud.width, cloud.row_step = truncated, len(truncated), len(truncated)
    with pytest.raises(MessageError, match="CRC"):
        cloud_to_symbols(cloud)
    with pytest.raises(ValueError, match="NaN"):
        symbols_to_cloud(np.full(8, np.nan, np.complex64), [0, 1], 4, config=0, fmt="coded8")


def test_int4_nibbles_keep_their_sign():
    z = np.array([-1 - 1j, 1 + 1j, -0.5 + 0.25j, 0.0 - 1j], np.complex64)
    symbols, _, _, _ = cloud_to_symbols(symbols_to_cloud(z, [0], 4, config=0, fmt="int4"))
    assert np.allclose(symbols.reshape(-1), [-1 - 1j, 1 + 1j, -4 / 7 + 2j / 7, -1j], atol=1e-6)


def test_quantized_clouds_refuse_bad_scales_and_negative_configurations():
    cloud = symbols_to_cloud(np.ones(8, np.complex64), [0, 1], 4, config=0, fmt="int8")
    rec = np.frombuffer(bytes(cloud.data), np.uint8).copy()
    rec[4 * 2:4 * 2 + 4] = np.frombuffer(np.float32(np.nan).tobytes(), np.uint8)    # first record's scale
    cloud.data = rec.tobytes()
    with pytest.raises(MessageError, match="NaN"):
        cloud_to_symbols(cloud)
    with pytest.raises(ValueError, match="index >= 0"):
        symbols_to_cloud(np.ones(8, np.complex64), [0, 1], 4, fmt="int4")
    with pytest.raises(ValueError, match="unknown symbol format"):
        symbols_to_cloud(np.ones(8, np.complex64), [0, 1], 4, fmt="int3")
