"""Robot and server as two hosts: two network namespaces joined by a veth pair, channel symbols over UDP.

The robot side (a camera driver sending 640x480 frames at 10 Hz, and the camera
node) runs in one namespace, the server side (channel emulator, server, policy
manager and a watcher) in the other, each with its own address, so everything
between them crosses the veth link as between two machines: symbols one way,
the policy's configuration the other. The test creates and removes the
namespaces; it needs root and iproute2 and fails with the reason if the
kernel refuses them. The robot's veth byte counter must account for every
classified frame's symbols, so the frames cannot have travelled through
shared memory. A second test does the same for a fleet: two robots' drivers and
cameras on the robot host; their channels, one fleet server and one fleet policy
on the server host.
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


def two_hosts() -> TwoHosts:
    try:
        return TwoHosts()
    except (RuntimeError, FileNotFoundError) as exc:
        pytest.fail(f"cannot create two network namespaces joined by a veth pair (needs root and iproute2): {exc}")


def stop(nodes: dict) -> dict:
    """Ctrl-C to one node after another (as ``system.stop`` does); name -> (exit status, stderr)."""
    out = {}
    for name, proc in nodes.items():
        proc.send_signal(signal.SIGINT)
        out[name] = (proc.wait(timeout=60), proc.stderr.read().decode(errors="replace"))
    return out


def symbol_bytes(got: dict) -> int:
    """Bytes of these classified frames' symbol records: (4 pilots + tokens) x (2m + 2) float32."""
    return sum((4 + int(v["tokens"])) * (2 * int(v["rate"]) + 2) * 4 for v in got.values())


def assert_clean(exits: dict) -> None:
    assert {name: code for name, (code, _) in exits.items()} == dict.fromkeys(exits, 0), exits
    assert not [name for name, (_, text) in exits.items() if "Traceback" in text], exits


def test_robot_and_server_on_two_hosts_over_udp():
    hosts = two_hosts()
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
        watcher, stop_watching = hosts.watcher(SECONDS + 90, frames)
        driver = hosts.run(hosts.robot, [str(DRIVER), "--frames", str(frames), "--rate", str(RATE),
                                         "--size", "640x480"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent = json.loads(driver.communicate(timeout=180)[0].decode().strip().splitlines()[-1])
        got = watched(watcher, stop=stop_watching)
        sent_bytes = hosts.tx_bytes() - before
        assert got, "nothing classified on the server side"
    finally:
        exits = stop(nodes)
        hosts.close()
    latencies = [v["latency_ms"] for v in got.values()]
    print(f"two hosts: {len(got)}/{sent['published']} classified, latency p50 {np.percentile(latencies, 50):.1f} ms, "
          f"p95 {np.percentile(latencies, 95):.1f} ms, {sent_bytes / 1e3:.0f} kB robot -> server", file=sys.stderr)
    assert sent["published"] == frames
    missing = sorted(set(range(frames)) - set(got))
    assert len(got) >= 0.98 * frames, f"{len(got)} of {frames} classified; missing frames {missing}"
    # every classified frame's records (4 pilots + its tokens, m=4: 8 float32 + size + config each) crossed the link
    payload = symbol_bytes(got)
    assert sent_bytes >= payload, f"{sent_bytes} bytes left the robot's interface, the symbols alone are {payload}"
    assert_clean(exits)
    # the policy's choice for the 30 dB link crossed back from the server side to the camera
    assert got[max(got)]["configuration_id"] == load_front().get("S3").name


def test_a_fleet_across_two_hosts_robots_on_one_side_one_server_and_fleet_policy_on_the_other():
    """Two robots' cameras on the robot host; their channels, one fleet server and one fleet policy on the other."""
    robots, per_robot, rate = ("r1", "r2"), 160, 8.0
    hosts = two_hosts()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    nodes = {}
    try:
        for r, snr in zip(robots, ("30.0", "0.0")):
            nodes[f"{r}/channel"] = hosts.run(hosts.server, ["-m", "semcom_ros.nodes.channel", "--ros-args", "-p",
                                                             f"snr_db:={snr}", "-r", f"__ns:=/{r}"], **quiet)
            nodes[f"{r}/camera"] = hosts.run(hosts.robot, ["-m", "semcom_ros.nodes.camera", "--ros-args",
                                                           "-p", "viz_rate_hz:=0.0", "-r", f"__ns:=/{r}"], **quiet)
        fleet = ["-p", f"robots:=[{','.join(robots)}]"]
        nodes["server"] = hosts.run(hosts.server, ["-m", "semcom_ros.nodes.server", "--ros-args", *fleet], **quiet)
        # a budget below what S1 costs at this frame rate: the policy must switch both robots, from the server side
        nodes["fleet_policy"] = hosts.run(hosts.server, ["-m", "semcom_ros.nodes.fleet_policy", "--ros-args", *fleet,
                                                         "-p", f"budget:={len(robots) * rate * 60.0}"], **quiet)
        time.sleep(6)
        before = hosts.tx_bytes()
        watcher, stop_watching = hosts.watcher(per_robot / rate + 90, len(robots) * per_robot,
                                               ",".join(f"/{r}/classification" for r in robots))
        drivers = [hosts.run(hosts.robot, [str(DRIVER), "--topic", f"/{r}/image", "--frames", str(per_robot),
                                           "--rate", str(rate), "--size", "640x480", "--start-index", str(1000 * i)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i, r in enumerate(robots)]
        sent = [json.loads(d.communicate(timeout=180)[0].decode().strip().splitlines()[-1]) for d in drivers]
        got = watched(watcher, stop=stop_watching)
        sent_bytes = hosts.tx_bytes() - before
    finally:
        exits = stop(nodes)
        hosts.close()
    assert [s["published"] for s in sent] == [per_robot] * len(robots)
    initial = load_front().get("S1").name
    for i, r in enumerate(robots):
        mine = {k: v for k, v in got.items() if 1000 * i <= k < 1000 * i + per_robot}
        # from the robot's first classified frame on (eight processes find each other across the link first)
        first = min(mine) - 1000 * i if mine else per_robot
        assert first <= 5 * rate, f"{r}: the first {first} frames were lost while the hosts discovered each other"
        after = per_robot - first
        print(f"fleet on two hosts, {r}: {len(mine)} of {per_robot} classified, first at frame {first}",
              file=sys.stderr)
        assert len(mine) >= 0.95 * after, f"{r}: {len(mine)} of {after} frames classified after the first"
        assert all(v["robot"] == r for v in mine.values()), r       # each robot's frames answered as its own
        assert {v["configuration_id"] for v in mine.values()} - {initial}, f"{r}: no fleet-policy choice came back"
    assert all(k // 1000 < len(robots) and k % 1000 < per_robot for k in got)     # only frames sent
    assert sent_bytes >= symbol_bytes(got), f"{sent_bytes} bytes left the robot host, the symbols alone are more"
    assert_clean(exits)


def load_front():
    from semcom_ros.core.bundle.bundle import load_bundle

    return load_bundle("default").front(4)
