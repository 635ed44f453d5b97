"""The moving robot's channels through the nodes as OS processes, at 640x480, switched at run time.

camera, channel, server and policy run as processes; a camera-driver process
sends 640x480 frames at 10 Hz. This process watches what the channel node
announces (``link_channel``), what it sends on (``received_symbols``), the
server's pilot estimate of each frame's SNR (``estimated_snr``) and
``/diagnostics``, and changes the channel model as ``ros2 param set`` would.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32, String

from semcom_ros.nodes import system as wiring
from semcom_ros.nodes.base import LATCHED, NEWEST_FRAME, RELIABLE
from semcom_ros.nodes.symbol_cloud import read_cloud

DRIVER = Path(__file__).parent / "camera_driver.py"
NODES = {"semcom_camera": {"viz_rate_hz": 0.0, "compile_configurations": ["S1"]},
         "semcom_channel": {"snr_db": 20.0, "channel": "correlated_rayleigh", "doppler_hz": 0.5},
         "semcom_server": {},
         "semcom_policy": {"mode": "max_accuracy_under_cap", "gmacs_cap": 10.0}}


class LinkWatcher(Node):
    def __init__(self):
        super().__init__("link_watcher")
        self.announced, self.snr, self.frames, self.status, self.level = [], [], [], {}, {}
        self.link_snr = []
        self.create_subscription(Float32, "link_snr", lambda m: self.link_snr.append((time.monotonic(), m.data)),
                                 RELIABLE)
        self.create_subscription(String, "link_channel", self.on_channel, LATCHED)
        self.create_subscription(Float32, "estimated_snr", lambda m: self.snr.append(m.data), RELIABLE)
        self.create_subscription(PointCloud2, "received_symbols", self.on_frame, NEWEST_FRAME)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_diag, RELIABLE)

    def on_channel(self, msg):
        try:
            self.announced.append(json.loads(msg.data))
        except ValueError:
            pass                  # the bad announcements a test sends itself

    def on_frame(self, msg):
        _, symbols, sizes, m, _ = read_cloud(msg)
        pilots = int((sizes == 0).sum()) * m
        data = symbols.reshape(-1)[pilots:][: int((sizes > 0).sum()) * m]
        self.frames.append((float(np.mean(symbols.reshape(-1)[:pilots] == 0)), float(np.mean(data == 0))))

    def on_diag(self, msg):
        for s in msg.status:
            self.status[s.name] = {kv.key: kv.value for kv in s.values}
            self.level[s.name] = (s.level, s.message)


@pytest.fixture(scope="module")
def link():
    procs = wiring.spawn(NODES, names=tuple(NODES), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rclpy.init()
    watcher = LinkWatcher()
    executor = SingleThreadedExecutor()
    executor.add_node(watcher)
    clients = {n: AsyncParameterClient(watcher, n) for n in ("semcom_channel", "semcom_policy")}
    driver = None

    def spin_until(cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not cond():
            executor.spin_once(timeout_sec=0.05)
        return cond()

    def dead():
        return {n: p.stderr.read().decode()[-2000:] for n, p in procs.items() if p.poll() is not None}

    def set_params(node, accepted=True, **values):
        assert clients[node].wait_for_services(30)
        future = clients[node].set_parameters([Parameter(k, value=v) for k, v in values.items()])
        executor.spin_until_future_complete(future, timeout_sec=30)
        assert future.done() and all(r.successful == accepted for r in future.result().results), future.result()

    def collect(seconds):
        """Estimated SNRs and (pilot, data) zero fractions of the frames that arrive over ``seconds``."""
        watcher.snr.clear()
        watcher.frames.clear()
        spin_until(lambda: False, seconds)
        return np.array(watcher.snr), np.array(watcher.frames)

    try:
        assert spin_until(lambda: set(NODES) <= set(watcher.status) or dead(), 180) and not dead(), dead()
        driver = subprocess.Popen([sys.executable, str(DRIVER), "--frames", "100000", "--rate", "10", "--size",
                                   "640x480"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert spin_until(lambda: len(watcher.snr) >= 20 or driver.poll() is not None, 120), \
            driver.stderr.read().decode()[-2000:] if driver.poll() is not None else dead()
        yield type("Link", (), {"watcher": watcher, "set": staticmethod(set_params), "collect": staticmethod(collect),
                                "spin_until": staticmethod(spin_until), "dead": staticmethod(dead)})
    finally:
        if driver is not None:
            driver.terminate()
            driver.wait(timeout=30)
        codes = wiring.stop(procs)
        executor.shutdown()
        watcher.destroy_node()
        rclpy.shutdown()
    assert codes == {n: 0 for n in NODES}, codes      # clean shutdown on Ctrl-C


def lag_one(x):
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


def test_fading_memory_follows_the_doppler(link):
    """Slow Doppler: the frame SNR fades deeply and the next frame's is like the last; fast: it is not."""
    assert link.watcher.announced[-1]["channel"] == "correlated_rayleigh"
    slow, _ = link.collect(12.0)
    assert len(slow) >= 60 and slow.std() > 2.5 and lag_one(slow) > 0.6, (len(slow), slow.std(), lag_one(slow))
    link.set("semcom_channel", doppler_hz=80.0)          # J0(2π·80·0.1) ≈ 0.05: frames independent
    assert link.spin_until(lambda: link.watcher.announced[-1]["doppler_hz"] == 80.0, 10)
    fast, _ = link.collect(12.0)
    # Rayleigh: 10·log10|h|² has a 5.6 dB spread; the 16-pilot estimate adds about 1.6 dB of its own
    assert len(fast) >= 60 and fast.std() > 4.0 and lag_one(fast) < 0.35, (len(fast), fast.std(), lag_one(fast))
    assert link.watcher.status["semcom_channel"]["channel"] == "correlated_rayleigh"


def test_line_of_sight_steadies_the_link(link):
    link.set("semcom_channel", channel="rician", k_factor=20.0, doppler_hz=20.0)
    assert link.spin_until(lambda: link.watcher.announced[-1]["channel"] == "rician", 10)
    assert link.watcher.announced[-1]["k_factor"] == 20.0
    snr, _ = link.collect(8.0)
    # K = 20: about 1.3 dB of fading on top of the estimate's 1.6 dB, against Rayleigh's 5.6
    assert len(snr) >= 40 and snr.std() < 3.0 and abs(np.median(snr) - 20.0) < 2.0, (snr.std(), np.median(snr))


def test_bursts_erase_data_blocks_never_pilots_and_frames_keep_coming(link):
    link.set("semcom_channel", channel="gilbert_elliott", burst_loss=0.3, burst_length=4.0)
    assert link.spin_until(lambda: link.watcher.announced[-1]["channel"] == "gilbert_elliott", 10)
    snr, frames = link.collect(10.0)
    assert len(frames) >= 50 and (frames[:, 0] == 0).all()             # pilots always arrive
    assert frames[:, 1].mean() == pytest.approx(0.3, abs=0.08)          # the erased share of data symbols
    assert abs(np.median(snr) - 20.0) < 2.0                              # no fading on this model
    link.spin_until(lambda: False, 1.5)
    assert int(link.watcher.status["semcom_channel"]["symbols_erased"]) > 0
    assert int(link.watcher.status["semcom_server"].get("frames_out", 1)) > 0 and not link.dead()


def test_policy_follows_the_announced_channel_and_warns_on_a_mismatch(link):
    link.set("semcom_channel", channel="rayleigh")
    assert link.spin_until(lambda: link.watcher.status.get("semcom_policy", {}).get("accuracy_tables") == "rayleigh",
                           10), link.watcher.status.get("semcom_policy")
    link.set("semcom_policy", channel="awgn")                           # told otherwise by hand
    assert link.spin_until(lambda: link.watcher.level["semcom_policy"][0] == DiagnosticStatus.WARN, 10)
    assert "announces rayleigh" in link.watcher.level["semcom_policy"][1]
    assert link.watcher.status["semcom_policy"]["accuracy_tables"] == "awgn"
    link.set("semcom_policy", channel="")
    assert link.spin_until(lambda: link.watcher.level["semcom_policy"][0] == DiagnosticStatus.OK, 15), \
        link.watcher.level["semcom_policy"]


def test_trajectory_profile_drives_the_mean_snr(link):
    """Back and forth between 3 and 30 m at 10 m/s, no shadowing: link_snr is 40 - 30·log10(d) dB."""
    link.set("semcom_channel", channel="awgn", profile="trajectory", shadowing_db=0.0, speed_mps=10.0)
    link.watcher.link_snr.clear()
    link.spin_until(lambda: False, 6.0)                         # more than one 5.4-s round trip
    values = np.array([v for _, v in link.watcher.link_snr])
    assert len(values) >= 30

    def snr(d):
        return 40 - 30 * np.log10(d)
    # frames come every 0.1 s, 1 m apart: the extremes seen lie within a metre of the turning points
    assert snr(4.0) <= values.max() <= snr(3.0) + 1e-3 and snr(30.0) - 1e-3 <= values.min() <= snr(29.0)
    link.set("semcom_channel", profile="constant")


def test_bad_link_settings_are_refused_and_bad_announcements_counted(link):
    """Out-of-range conditions and unknown models are refused with a reason; a malformed link_channel is counted."""
    link.set("semcom_channel", accepted=False, burst_loss=0.99)
    link.set("semcom_channel", accepted=False, channel="two_ray")
    link.set("semcom_channel", accepted=False, block_symbols=0)
    link.set("semcom_policy", accepted=False, channel="two_ray")
    rogue = link.watcher.create_publisher(String, "link_channel", LATCHED)
    for bad in ("not json", '{"channel": "two_ray"}', '{"speed_mps": 1.0}'):
        rogue.publish(String(data=bad))
        link.spin_until(lambda: False, 0.3)
    assert link.spin_until(lambda: int(link.watcher.status["semcom_policy"].get("bad_link_channel", 0)) >= 3, 10), \
        link.watcher.status["semcom_policy"]
    # the policy keeps the channel node's last good announcement
    assert link.watcher.status["semcom_policy"]["accuracy_tables"] == link.watcher.status["semcom_channel"]["channel"]
    # /diagnostics comes once a second: wait for the report that counts all three refusals
    assert link.spin_until(lambda: int(link.watcher.status["semcom_channel"].get("rejected_parameters", 0)) >= 3,
                           10), link.watcher.status["semcom_channel"]
    assert not link.dead()
