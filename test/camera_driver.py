"""A stand-in for a team's camera driver, run as its own OS process by the tests and benchmarks.

Publishes embedded-set images letterboxed into real camera frames (default
1024x768 bgr8) or, with ``--source shelf``, the built-in shelf stream's
frames (a robot panning along a shelf at ``--speed`` m/s), raw or compressed, best-effort or reliable, with
``header.frame_id`` = frame index so results can be matched to frames. With
``--corrupt-every K`` every K-th compressed frame carries broken jpeg bytes.
Prints one JSON line (frames and stamps published) when done.

    python test/camera_driver.py --frames 50 --rate 10 --size 1024x768
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.core.data.frame_sources import camera_frame
from semcom_ros.core.data.video_codec import VideoSettings
from semcom_ros.nodes.msg_convert import array_to_compressed, array_to_image
from semcom_ros.nodes.video_transport import VideoSender


def core_labels(bundle_spec, indices, size, configuration: str | dict = "S1") -> dict[int, int]:
    """What the core says for the frames this driver sends, link at the top SNR.

    ``configuration``: one for every frame, or frame index -> configuration (schedule and rate).
    """
    import torch

    from semcom_ros.core.bundle.bundle import load_bundle

    bundle = load_bundle(bundle_spec)
    link = bundle.link(4 if 4 in bundle.rates else bundle.rates[0], all_rates=True)
    front = bundle.front(link.rate)
    data = load_embedded_eval()
    out = {}
    for i in indices:
        link.use(front.get(configuration[i] if isinstance(configuration, dict) else configuration))
        frame = link.edge(link.preprocess([camera_frame(data.images[i], *size)]))
        out[i] = int(link.decode(frame.symbols, torch.tensor([25.0]), frame.sizes).argmax(-1))
    return out


def shelf_frames(indices, size, speed: float = 0.5) -> tuple[list[np.ndarray], list[int | None]]:
    """The shelf stream's frames ``indices`` at ``size`` (width, height) and their labels (None: not scored)."""
    from semcom_ros.core.data.scene_sets import shelf_stream

    stream = shelf_stream(speed, width=size[0], height=size[1])
    frames, labels = zip(*(stream.frame(i) for i in indices)) if len(indices) else ((), ())
    return list(frames), list(labels)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--rate", type=float, default=10.0, help="frames per second (0: as fast as possible)")
    ap.add_argument("--size", default="1024x768")
    ap.add_argument("--encoding", default="bgr8", choices=("bgr8", "rgb8"))
    ap.add_argument("--transport", default="raw", choices=("raw", "compressed"))
    ap.add_argument("--reliability", default="best_effort", choices=("best_effort", "reliable"))
    ap.add_argument("--corrupt-every", type=int, default=0)
    ap.add_argument("--video", default="", choices=("", "h264", "h265"),
                    help="with --transport compressed: the frames as one H.264/H.265 stream instead of JPEGs")
    ap.add_argument("--crf", type=int, default=28, help="--video: constant quality (lower: better, more bytes)")
    ap.add_argument("--gop", type=int, default=10, help="--video: frames from one I-frame to the next (divides --pool)")
    ap.add_argument("--source", default="garments", choices=("garments", "shelf"),
                    help="garments: embedded images letterboxed; shelf: the built-in shelf stream")
    ap.add_argument("--speed", type=float, default=0.5, help="--source shelf: m/s along the shelf")
    ap.add_argument("--topic", default="image")
    ap.add_argument("--start-index", type=int, default=0, help="first embedded image or shelf frame (and frame_id)")
    ap.add_argument("--pool", type=int, default=100, help="distinct frames prepared; they repeat beyond this")
    ap.add_argument("--wait", type=float, default=60.0, help="seconds to wait for a subscriber")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    rclpy.init()
    node = rclpy.create_node("camera_driver")
    qos = (QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE) if args.reliability == "reliable"
           else qos_profile_sensor_data)
    compressed = args.transport == "compressed"
    topic = args.topic + "/compressed" if compressed else args.topic
    pub = node.create_publisher(CompressedImage if compressed else Image, topic, qos)
    data = load_embedded_eval()
    end = time.monotonic() + args.wait
    while pub.get_subscription_count() == 0 and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(0.5)
    # prepare the messages first so publishing is paced by the clock alone; beyond --pool
    # frames the same images come round again (frame_id keeps counting)
    messages = []
    if args.video and args.pool % args.gop:
        raise SystemExit(f"--pool {args.pool} must be a multiple of --gop {args.gop}: the stream repeats from its "
                         "I-frame")
    video = VideoSender(VideoSettings(codec=args.video, gop=args.gop, crf=args.crf, fps=max(1, round(args.rate)))) \
        if args.video else None
    indices = [args.start_index + k for k in range(min(args.frames, args.pool))]
    shelf = shelf_frames(indices, (width, height), args.speed)[0] if args.source == "shelf" else None
    for k, i in enumerate(indices):
        frame = shelf[k] if shelf is not None else camera_frame(data.images[i % len(data.images)], width, height)
        if compressed and video is not None:
            msg = video.message(frame)
        elif compressed:
            msg = array_to_compressed(frame, fmt="jpeg")
            if args.corrupt_every and (k + 1) % args.corrupt_every == 0:
                msg.data = b"\xff\xd8\xff\xe0 this is not a jpeg" + bytes(200)
        elif args.encoding == "bgr8":
            msg = array_to_image(frame[:, :, ::-1], encoding="bgr8")
        else:
            msg = array_to_image(frame)
        messages.append(msg)
    period = 1.0 / args.rate if args.rate > 0 else 0.0
    t_next = time.monotonic()
    stamps = []
    for k in range(args.frames):
        if period:
            time.sleep(max(0.0, t_next - time.monotonic()))
            t_next += period
        msg = messages[k % len(messages)]
        msg.header.frame_id = str(args.start_index + k)
        msg.header.stamp = node.get_clock().now().to_msg()
        pub.publish(msg)
        stamps.append(msg.header.frame_id)
    time.sleep(1.0)
    print(json.dumps({"published": len(stamps), "subscribers": pub.get_subscription_count()}), flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
