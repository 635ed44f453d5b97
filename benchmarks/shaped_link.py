"""Robot and server on a real bandwidth-limited link: this package's split against what a team runs instead.

    sudo python benchmarks/shaped_link.py [--rates 0.5,1,2] [--seconds 20]

Two network namespaces joined by a veth pair (test/two_hosts.py); the robot's
side is limited by the kernel's token bucket (``tc ... tbf rate R``, 400 ms of
queue). The camera driver (test/camera_driver.py) sends 640x480 frames at 10
frames/s on the robot. Schemes, each on a fresh pair of hosts:

- ``semantic``: camera node on the robot (configuration S2, symbols as float32
  or int8), server node on the server host reading ``channel_symbols`` as they
  arrive (a digital link: no emulated radio);
- ``semantic_int8``, ``semantic_int4``, ``semantic_coded8``: the same with int8 or int4 symbols, or
  int8 symbols entropy-coded per frame;
- ``jpeg``: the driver's frames as ``sensor_msgs/CompressedImage`` (JPEG,
  quality 90, image_transport's naming) over the link, the classifier node
  (the whole model) on the server;
- ``h264``: the driver's frames as one H.264 stream (GOP 10, CRF 28,
  zero-latency) in ``CompressedImage`` (``format: h264``), decoded in order by
  the classifier node on the server;
- ``label``: the classifier node on the robot; only its ``classification``
  crosses the link.

A watcher on the server host times each result from the frame's stamp (one
clock: both hosts are this machine). Writes benchmarks/results/shaped_link.json.
"""
from __future__ import annotations

import argparse
import datetime
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

DRIVER = ROOT / "test" / "camera_driver.py"
RESULTS = Path(__file__).parent / "results"
SCHEMES = ("semantic", "semantic_int8", "semantic_int4", "semantic_coded8", "jpeg", "h264", "label")
POOL = 100      # distinct frames the driver prepares; frame k shows embedded image k % POOL
BUNDLE = "garments"     # the model those frames are for: the centred garments, blown up to 640x480


def node(name: str, *params: str, remap: tuple[str, ...] = ()) -> list[str]:
    args = [a for p in (*params, f"bundle:={BUNDLE}") for a in ("-p", p)] + [a for r in remap for a in ("-r", r)]
    return ["-m", "semcom_ros.nodes.start", name, "--ros-args", *args]


def layout(scheme: str) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """Robot-side nodes, server-side nodes and the driver's arguments of a scheme."""
    if scheme.startswith("semantic"):
        fmt = scheme.split("_")[1] if "_" in scheme else "float32"
        return ({"camera": node("camera", "viz_rate_hz:=0.0", "configuration:=S2", f"symbol_format:={fmt}")},
                {"server": node("server", remap=("received_symbols:=channel_symbols",))}, [])
    if scheme == "jpeg":
        return {}, {"classifier": node("classifier", "image_transport:=compressed")}, ["--transport", "compressed"]
    if scheme == "h264":
        video = ["--transport", "compressed", "--video", "h264"]
        return {}, {"classifier": node("classifier", "image_transport:=compressed")}, video
    if scheme == "label":
        return {"classifier": node("classifier")}, {}, []
    raise ValueError(f"unknown scheme {scheme!r}; use one of {SCHEMES}")


def run_scheme(scheme: str, mbit_s: float | None, frames: int, hz: float = 10.0) -> dict:
    """One scheme on a fresh pair of hosts (link limited to ``mbit_s``, None: unlimited)."""
    robot_nodes, server_nodes, driver_args = layout(scheme)
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
        driver = hosts.run(hosts.robot, [str(DRIVER), "--frames", str(frames), "--rate", str(hz), "--size", "640x480",
                                         "--pool", str(POOL), *driver_args],
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
    from semcom_ros.core.data.datasets import load_embedded_eval

    labels = load_embedded_eval().labels
    lat = [v["latency_ms"] for v in got.values()]
    return {"scheme": scheme, "link_mbit_s": mbit_s, "frames_sent": sent["published"], "delivered": len(got),
            "results_per_s": round(len(got) / (frames / hz), 2),      # camera at hz: at most hz
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 1) if lat else None,
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 1) if lat else None,
            "accuracy_of_delivered": round(float(np.mean([int(v["class_id"]) == labels[i % POOL]
                                                          for i, v in got.items()])), 4) if got else None,
            "accuracy_of_sent": round(sum(int(v["class_id"]) == labels[i % POOL] for i, v in got.items())
                                      / sent["published"], 4),
            "robot_bytes_sent": sent_bytes, "bytes_per_frame_sent": round(sent_bytes / sent["published"], 1),
            "exit_codes": exits}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="0.5,1,2", help="link rates (Mbit/s)")
    ap.add_argument("--schemes", default=",".join(SCHEMES))
    ap.add_argument("--seconds", type=float, default=20.0, help="stream length per scheme and rate")
    ap.add_argument("--out", type=Path, default=RESULTS / "shaped_link.json")
    args = ap.parse_args()
    rows = []
    for rate in [float(r) for r in args.rates.split(",")]:
        for scheme in args.schemes.split(","):
            rows.append(run_scheme(scheme, rate, int(args.seconds * 10)))
            r = rows[-1]
            print(f"{rate:g} Mbit/s {scheme}: {r['delivered']}/{r['frames_sent']} results, "
                  f"{r['results_per_s']}/s, p50 {r['latency_ms_p50']} ms, p95 {r['latency_ms_p95']} ms, "
                  f"accuracy {r['accuracy_of_sent']}, {r['bytes_per_frame_sent']:.0f} B/frame", flush=True)
    report = {"date": datetime.date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "camera": "640x480 at 10 frames/s",
              "command": f"python benchmarks/shaped_link.py --rates {args.rates} --schemes {args.schemes} "
                         f"--seconds {args.seconds:g}", "runs": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
