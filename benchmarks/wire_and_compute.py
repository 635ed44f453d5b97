"""Parts of the digital-baseline benchmark: bytes on the wire as ROS messages, quantized symbols, edge compute.

Messages are measured as they travel: serialised CDR (``rclpy.serialization``),
the DDS/RTPS and UDP/IP headers around them not included.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from rclpy.serialization import serialize_message
from std_msgs.msg import String

from semcom_ros.core.data import frame_codecs
from semcom_ros.core.link.channels import with_pilots
from semcom_ros.core.fronts.evaluation import frame_times
from semcom_ros.core.data.frame_sources import camera_frame
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.link.numpy_channel import propagate
from semcom_ros.core.link.padded_batch import ReceivedFrame, decode_frames
from semcom_ros.nodes.msg_convert import array_to_compressed, array_to_image
from semcom_ros.nodes.symbol_cloud import SYMBOL_FORMATS, cloud_to_symbols, symbols_to_cloud

PILOT_RECORDS = 4          # the camera node's default pilot_records
POINTS = ("S1", "S2", "S3")


@torch.no_grad()
def edge_clouds(link, conf, x, fmt: str) -> list:
    """The channel_symbols messages the camera node would publish for frames ``x`` in configuration ``conf``."""
    link.rate, link.schedule = conf.rate, MergeSchedule.of(conf)
    edge = link.edge(x)
    tx = with_pilots(edge.symbols, PILOT_RECORDS * conf.rate)
    return [symbols_to_cloud(tx[i].numpy(), [0.0] * PILOT_RECORDS + edge.sizes[i].tolist(), conf.rate, config=0,
                             fmt=fmt) for i in range(len(x))]


def semantic_message_bytes(link, front, x) -> dict:
    out = {}
    for point in POINTS:
        conf = front.get(point)
        for fmt in SYMBOL_FORMATS:
            sizes = [len(serialize_message(c)) for c in edge_clouds(link, conf, x, fmt)]
            out[f"semantic {front.label(point)} {fmt}"] = float(np.mean(sizes))
    return out


def image_message_bytes(images, frame_size: str) -> dict:
    w, h = map(int, frame_size.split("x"))
    out = {}
    native = f"{images[0].shape[1]}x{images[0].shape[0]}"
    for size, frames in ((native, images), (frame_size, [camera_frame(im, w, h) for im in images])):
        for fmt, q in (("jpeg", 80), ("png", 90)):
            msgs = [array_to_compressed(f, fmt=fmt, quality=q) for f in frames]
            out[f"CompressedImage {fmt}{f' q{q}' if fmt == 'jpeg' else ''} {size}"] = float(
                np.mean([len(serialize_message(m)) for m in msgs]))
        out[f"Image raw {size}"] = float(len(serialize_message(array_to_image(frames[0]))))
    out["label (std_msgs/String)"] = float(len(serialize_message(String(data="Ankle boot"))))
    return out


def video_message_bytes(frames: int = 100, speed: float = 0.5) -> dict:
    """Mean CompressedImage bytes per frame of the shelf stream as image_source sends it in H.264/H.265."""
    from semcom_ros.core.data.scene_sets import shelf_stream
    from semcom_ros.core.data.video_codec import VideoSettings
    from semcom_ros.nodes.video_transport import VideoSender

    stream = shelf_stream(speed)
    pictures = [stream.frame(t)[0] for t in range(frames)]
    out = {}
    for settings in (VideoSettings("h264", gop=10, crf=28), VideoSettings("h265", gop=10, crf=28)):
        sender = VideoSender(settings)
        sizes = [len(serialize_message(sender.message(p))) for p in pictures]
        out[f"CompressedImage {settings.label} 640x480 shelf stream {speed} m/s"] = float(np.mean(sizes))
    return out


@torch.no_grad()
def quantization_cost(link, front, x, y, snrs, seed: int, images: int = 500) -> dict:
    """Accuracy of S1-S3 on AWGN through the message path (camera -> channel node -> server) per symbol format.

    A quantized frame is quantized twice, as in the pipeline: by the camera, and
    again by the channel emulator after the noise.
    """
    rng = np.random.default_rng(seed)
    x, y = x[:images], np.asarray(y[:images])
    out = {}
    for point in POINTS:
        conf = front.get(point)
        for fmt in SYMBOL_FORMATS:
            clouds = edge_clouds(link, conf, x, fmt)
            accs = {}
            for snr in snrs:
                frames = []
                for cloud in clouds:
                    symbols, sizes, m, _ = cloud_to_symbols(cloud)
                    rx = propagate(symbols.reshape(-1), "awgn", float(snr), rng).y
                    symbols, sizes, m, _ = cloud_to_symbols(symbols_to_cloud(rx, sizes, m, config=0, fmt=fmt))
                    frames.append(ReceivedFrame.from_received(torch.from_numpy(symbols), PILOT_RECORDS * m,
                                                              torch.from_numpy(sizes[PILOT_RECORDS:]), m,
                                                              MergeSchedule.of(conf)))
                pred = decode_frames(link, frames, 1.0).argmax(-1).numpy()
                accs[float(snr)] = round(float(np.mean(pred == y)), 4)
            out[f"{front.label(point)} {fmt}"] = accs
    return out


@torch.no_grad()
def edge_compute(link, front, images, frame_size: str) -> dict:
    """GMACs and measured single-frame ms on the robot for each scheme (one process, interleaved rounds)."""
    x = link.preprocess(images[:10])
    confs = [front.get(p) for p in POINTS]
    full = MergeSchedule(ratios=[0.0] * link.depth)
    times = frame_times(link, x, [MergeSchedule.of(c) for c in confs] + [full], rounds=5, frames=10)
    label_time = frame_times(link, x, [full], rounds=5, frames=10, server=True)[0]
    out = {f"semantic {front.label(p)}": {"gmacs": round(c.gmacs, 5), "edge_ms": round(t.ms, 3)}
           for p, c, t in zip(POINTS, confs, times)}
    link.schedule = full
    frame = link.edge(x[:1])
    link.server(frame.tokens, frame.sizes)        # the merge state then holds the server's blocks' counts
    counts = frame.tokens_per_layer + list(link.model.merge_state.tokens_per_layer)
    out["label (full model on the robot)"] = {"gmacs": round(link.gmacs(counts), 5),
                                              "edge_ms": round(label_time.ms, 3)}
    w, h = map(int, frame_size.split("x"))
    native = f"{images[0].shape[1]}x{images[0].shape[0]}"
    for size, frame in ((native, images[0]), (frame_size, camera_frame(images[0], w, h))):
        t0 = time.perf_counter()
        for _ in range(50):
            frame_codecs.encode(frame, "jpeg", 80)
        out[f"image jpeg q80 {size}"] = {"gmacs": 0.0, "edge_ms": round((time.perf_counter() - t0) / 50 * 1e3, 3)}
    return out
