"""Robot and server as two hosts: two network namespaces joined by a veth pair, channel symbols over UDP.

The robot side (a camera driver sending 640x480 frames at 10 Hz, and the camera
node) runs in one namespace, the server side (channel emulator, server, policy
manager and a watcher) in the other, each with its own address, so everything
between them crosses the veth link as between two machines: symbols one way,
the policy's configuration the other. The test creates and removes the
namespaces; it needs root and iproute2 and fails with the reason if the
kernel refuses them. The robot's veth byte counter must account for every
classified frame's symbols, so the frames cannot have travelled through
shared memory.
"""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from two_hosts import TwoHosts, watched  # noqa: E402

HERE = Path(__file__).resolve()
DRIVER = HERE.parent / "camera_driver.py"
SECONDS, RATE = 32, 10.0


def test_robot_and_server_on_two_hosts_over_udp():
    try:
        hosts = TwoHosts()
    except (RuntimeError, FileNotFoundError) as exc:
        pytest.fail(f"cannot create two network namespaces joined by a veth pair (needs root and iproute2): {exc}")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    nodes = {}
    try:
        nodes["semcom_channel"] = hosts.run(hosts.server, ["-m", "semcom_ros.nodes.channel", "--ros-args",
                                                           "-p", "snr_db:=30.0"], **quiet)
        nodes["semcom_server"] = hosts.run(hosts.server, ["-m", "semcom_ros.nodes.server"], **quiet)
        nodes["semcom_policy"] = hosts.run(hosts.server, ["-m", "semcom_ros.nodes.policy"], **quiet)
        nodes["semcom_camera"] = hosts.run(hosts.robot, ["-m", "semcom_ros.nodes.camera", "--ros-args",
                                                         "-p", "viz_rate_hz:=0.0"], **quiet)
        time.sleep(6)            # server side up before the stream starts (the driver waits for the camera)
        before = hosts.tx_bytes()
        frames = int(SECONDS * RATE)
        watcher, _ = hosts.watcher(SECONDS + 90, frames)
        driver = hosts.run(hosts.robot, [str(DRIVER), "--frames", str(frames), "--rate", str(RATE),
                                         "--size", "640x480"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent = json.loads(driver.communicate(timeout=180)[0].decode().strip().splitlines()[-1])
        got = watched(watcher)
        sent_bytes = hosts.tx_bytes() - before
        assert got, "nothing classified on the server side"
    finally:
        for proc in nodes.values():
            proc.send_signal(signal.SIGINT)
        exits = {name: (proc.wait(timeout=60), proc.stderr.read().decode(errors="replace"))
                 for name, proc in nodes.items()}
        hosts.close()
    latencies = [v["latency_ms"] for v in got.values()]
    print(f"two hosts: {len(got)}/{sent['published']} classified, latency p50 {np.percentile(latencies, 50):.1f} ms, "
          f"p95 {np.percentile(latencies, 95):.1f} ms, {sent_bytes / 1e3:.0f} kB robot -> server", file=sys.stderr)
    assert sent["published"] == frames
    missing = sorted(set(range(frames)) - set(got))
    assert len(got) >= 0.98 * frames, f"{len(got)} of {frames} classified; missing frames {missing}"
    # every classified frame's records (4 pilots + its tokens, m=4: 8 float32 + size + config each) crossed the link
    payload = sum((4 + int(v["tokens"])) * (2 * 4 + 2) * 4 for v in got.values())
    assert sent_bytes >= payload, f"{sent_bytes} bytes left the robot's interface, the symbols alone are {payload}"
    assert {name: code for name, (code, _) in exits.items()} == dict.fromkeys(nodes, 0), exits
    assert not [name for name, (_, text) in exits.items() if "Traceback" in text], exits
    # the policy's choice for the 30 dB link crossed back from the server side to the camera
    from semcom_ros.core.bundle import load_bundle

    assert got[max(got)]["configuration_id"] == load_bundle("default").front(4).get("S3").name
