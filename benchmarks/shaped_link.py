"""Robot and server on a real bandwidth-limited link: this package's split against what a team runs instead.

    sudo python benchmarks/shaped_link.py [--rates 0.5,1,2] [--seconds 20]

Two network namespaces joined by a veth pair (test/two_hosts.py); the robot's
side is limited by the kernel's token bucket (``tc ... tbf rate R``, 400 ms of
queue). The camera driver (test/camera_driver.py) sends 640x480 frames at 10
frames/s on the robot: the built-in shelf stream (a robot panning along a
shelf at 0.5 m/s; the default bundle, scored on the frames with an item at the
centre) or, with ``--source garments``, the centred garments blown up (the
``garments`` bundle). Schemes, each on a fresh pair of hosts:

- ``semantic``: camera node on the robot (configuration S2, symbols as float32
  or int8), server node on the server host reading ``channel_symbols`` as they
  arrive (a digital link: no emulated radio);
- ``semantic_int8``, ``semantic_int4``, ``semantic_coded8``: the same with int8 or int4 symbols, or
  int8 symbols entropy-coded per frame;
- ``jpeg``: the driver's frames as ``sensor_msgs/CompressedImage`` (JPEG,
  quality 90, image_transport's naming) over the link, the classifier node
  (the whole model) on the server;
- ``h264``, ``h265``: the driver's frames as one H.264/H.265 stream (GOP 10,
  CRF 28 or the ``_crf<N>`` in the name, zero-latency) in ``CompressedImage``
  (``format: h264``/``h265``), decoded in order by the classifier node on the server;
- ``label``: the classifier node on the robot; only its ``classification``
  crosses the link.

A watcher on the server host times each result from the frame's stamp (one
clock: both hosts are this machine). Writes benchmarks/results/shaped_link_<source>.json.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test"))
from two_hosts import TwoHosts, watched  # noqa: E402

from semcom_ros.nodes.symbol_cloud import SYMBOL_FORMATS  # noqa: E402

DRIVER = ROOT / "test" / "camera_driver.py"
RESULTS = Path(__file__).parent / "results"
SCHEMES = ("semantic", "semantic_int8", "semantic_int4", "semantic_coded8", "jpeg", "h264", "h265", "label")
# also semantic_coded4, h264_crf<N>, h265_crf<N>: the same stream at another constant quality (default CRF 28)
POOL = 200      # distinct frames the driver prepares (20 s at 10 frames/s); frame k shows pool frame k % POOL
SOURCES = {"shelf": "default", "garments": "garments"}   # the driver's frames -> the bundle made for them
SIZE = (640, 480)
SPEED = 0.5     # m/s along the shelf: the driver's frames and the labels they are scored with


@functools.lru_cache(maxsize=None)
def frame_labels(source: str) -> list[int | None]:
    """The label of each pool frame (None: no item at the centre, not scored); the stream labels without rendering."""
    if source == "shelf":
        from semcom_ros.core.data.scene_sets import shelf_stream

        stream = shelf_stream(SPEED, width=SIZE[0], height=SIZE[1])
        return [stream.label(t) for t in range(POOL)]
    from semcom_ros.core.data.datasets import load_embedded_eval

    return [int(v) for v in load_embedded_eval().labels[:POOL]]


def node(name: str, *params: str, remap: tuple[str, ...] = (), bundle: str = "default") -> list[str]:
    args = [a for p in (*params, f"bundle:={bundle}") for a in ("-p", p)] + [a for r in remap for a in ("-r", r)]
    return ["-m", "semcom_ros.nodes.start", name, "--ros-args", *args]


def layout(scheme: str, bundle: str = "default") -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """Robot-side nodes, server-side nodes and the driver's arguments of a scheme."""
    make = functools.partial(node, bundle=bundle)
    if scheme.startswith("semantic"):
        fmt = scheme.split("_")[1] if "_" in scheme else "float32"
        if fmt not in SYMBOL_FORMATS:
            raise ValueError(f"unknown symbol format in {scheme!r}; use one of {', '.join(SYMBOL_FORMATS)}")
        return ({"camera": make("camera", "viz_rate_hz:=0.0", "configuration:=S2", f"symbol_format:={fmt}")},
                {"server": make("server", remap=("received_symbols:=channel_symbols",))}, [])
    if scheme == "jpeg":
        return {}, {"classifier": make("classifier", "image_transport:=compressed")}, ["--transport", "compressed"]
    codec, sep, crf = scheme.partition("_crf")
    if codec in ("h264", "h265"):
        if sep and not crf.isdigit():
            raise ValueError(f"{codec}_crf<N> takes a whole number, got {scheme!r}")
        video = ["--transport", "compressed", "--video", codec, "--crf", crf or "28"]
        return {}, {"classifier": make("classifier", "image_transport:=compressed")}, video
    if scheme == "label":
        return {"classifier": make("classifier")}, {}, []
    raise ValueError(f"unknown scheme {scheme!r}; use one of {SCHEMES} or h264_crf<N>/h265_crf<N>")


def run_scheme(scheme: str, mbit_s: float | None, frames: int, hz: float = 10.0, source: str = "shelf") -> dict:
    """One scheme on a fresh pair of hosts (link limited to ``mbit_s``, None: unlimited)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    robot_nodes, server_nodes, driver_args = layout(scheme, SOURCES[source])
    hosts = TwoHosts()
    procs: dict[str, subprocess.Popen] = {}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    try:
        if mbit_s:
            hosts.shape(mbit_s)
        for ns, group in ((hosts.server, server_nodes), (hosts.robot, robot_nodes)):
            for name, args in group.items():
                procs[name] = hosts.run(ns, args, **quiet)
        watcher, stop = hosts.watcher(frames / hz + 120)      # returns once the server side has configured
        before = hosts.tx_bytes()
        driver = hosts.run(hosts.robot, [str(DRIVER), "--frames", str(frames), "--rate", str(hz), "--size",
                                         "%dx%d" % SIZE, "--pool", str(POOL), "--source", source, "--speed", str(SPEED),
                                         *driver_args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent = json.loads(driver.communicate(timeout=frames / hz + 120)[0].decode().strip().splitlines()[-1])
        time.sleep(3.0)                    # what the link still holds (400 ms of queue) and the last results
        sent_bytes = hosts.tx_bytes() - before
        stop.touch()
        got = watched(watcher, timeout=60)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGINT)
        exits = {name: proc.wait(timeout=60) for name, proc in procs.items()}
        hosts.close()
    labels = frame_labels(source)
    scored = {i: int(v["class_id"]) == labels[i % POOL] for i, v in got.items() if labels[i % POOL] is not None}
    scored_sent = sum(labels[k % POOL] is not None for k in range(sent["published"]))
    lat = [v["latency_ms"] for v in got.values()]
    return {"scheme": scheme, "source": source, "link_mbit_s": mbit_s, "frames_sent": sent["published"],
            "delivered": len(got),
            "results_per_s": round(len(got) / (frames / hz), 2),      # camera at hz: at most hz
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 1) if lat else None,
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 1) if lat else None,
            "scored_sent": scored_sent, "scored_delivered": len(scored),   # frames with an item at the centre
            "accuracy_of_delivered": round(float(np.mean(list(scored.values()))), 4) if scored else None,
            "accuracy_of_sent": round(sum(scored.values()) / scored_sent, 4) if scored_sent else None,
            "robot_bytes_sent": sent_bytes, "bytes_per_frame_sent": round(sent_bytes / sent["published"], 1),
            "exit_codes": exits}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="0.5,1,2", help="link rates (Mbit/s)")
    ap.add_argument("--schemes", default=",".join(SCHEMES))
    ap.add_argument("--seconds", type=float, default=20.0, help="stream length per scheme and rate")
    ap.add_argument("--source", default="shelf", choices=tuple(SOURCES),
                    help="the camera's frames: the shelf stream (default bundle) or blown-up garments")
    ap.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/shaped_link_<source>.json")
    args = ap.parse_args()
    rows = []
    for rate in [float(r) for r in args.rates.split(",")]:
        for scheme in args.schemes.split(","):
            rows.append(run_scheme(scheme, rate, int(args.seconds * 10), source=args.source))
            r = rows[-1]
            print(f"{rate:g} Mbit/s {scheme}: {r['delivered']}/{r['frames_sent']} results, "
                  f"{r['results_per_s']}/s, p50 {r['latency_ms_p50']} ms, p95 {r['latency_ms_p95']} ms, "
                  f"accuracy {r['accuracy_of_sent']}, {r['bytes_per_frame_sent']:.0f} B/frame", flush=True)
    report = {"date": datetime.date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "camera": "640x480 at 10 frames/s",
              "source": args.source, "bundle": SOURCES[args.source],
              "command": f"python benchmarks/shaped_link.py --rates {args.rates} --schemes {args.schemes} "
                         f"--seconds {args.seconds:g} --source {args.source}", "runs": rows}
    out = args.out or RESULTS / f"shaped_link_{args.source}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
