"""Adaptive compression across OS processes: schedule *and* JSCC rate change per frame, no restart.

A camera-driver process sends 640x480 frames at 10 Hz; camera, channel, server and
policy manager run as their own processes, as ``ros2 launch`` runs them. The test
process plays the operator: it changes the policy's parameters through its
services (as ``ros2 param set`` would) and watches ``classification`` and
``/diagnostics``.
"""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import PointCloud2

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.nodes import system as wiring
from semcom_ros.nodes.base import RELIABLE
from semcom_ros.nodes.symbol_cloud import symbols_to_cloud

sys.path.insert(0, str(Path(__file__).parent))
from camera_driver import core_labels  # noqa: E402

DRIVER = Path(__file__).parent / "camera_driver.py"
POOL = 100          # the driver's distinct frames: frame k shows embedded image k % POOL


def two_rates():
    """Two configurations of the built-in joint front at different rates, and a budget between them."""
    front = load_bundle("default").front(4)
    assert front.joint and len(front.rates) >= 2, "the built-in bundle ships a joint front over several rates"
    by_rate = {r: max((c for c in front.configurations if c.rate == r), key=lambda c: c.accuracy)
               for r in front.rates}
    low, high = by_rate[min(by_rate)], by_rate[max(by_rate)]
    return front, low, high


def test_rate_switches_mid_stream_unknown_rates_are_counted_and_lyapunov_keeps_its_budget():
    front, first, second = two_rates()
    # a budget the most accurate configuration at this link's SNR (40 dB) exceeds: only a charged queue keeps to it
    top = max(front.configurations, key=lambda c: (c.accuracy_at(40.0), -c.channel_uses))
    budget = round(0.7 * top.channel_uses, 1)
    assert min(c.channel_uses for c in front.configurations) < budget
    procs = wiring.spawn({"semcom_camera": {"viz_rate_hz": 0.0, "configuration": first.name},
                          "semcom_channel": {"snr_db": 40.0},
                          "semcom_policy": {"mode": "snr_table", "table_snr_db": [-100.0],
                                            "table_configurations": [first.name], "min_dwell_s": 0.0}},
                         names=("semcom_camera", "semcom_channel", "semcom_server", "semcom_policy"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    driver = subprocess.Popen([sys.executable, str(DRIVER), "--frames", "2000", "--rate", "10", "--size", "640x480",
                               "--reliability", "reliable", "--pool", str(POOL), "--wait", "120"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rclpy.init()
    node = rclpy.create_node("operator")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    results, status = [], {}
    node.create_subscription(DiagnosticArray, "classification", results.append, RELIABLE)
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: status.update(
        {s.name: {kv.key: kv.value for kv in s.values} for s in m.status}), RELIABLE)
    rx_pub = node.create_publisher(PointCloud2, "received_symbols", RELIABLE)
    policy = AsyncParameterClient(node, "semcom_policy")

    def spin_until(cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not cond():
            executor.spin_once(timeout_sec=0.05)
        return cond()

    def values(msg):
        return {kv.key: kv.value for kv in msg.status[0].values}

    def set_policy(**kw):
        for _ in range(3):      # a response can be lost just after discovery: ask again
            future = policy.set_parameters_atomically([Parameter(k, value=v) for k, v in kw.items()])
            executor.spin_until_future_complete(future, timeout_sec=20)
            if future.done() and future.result() is not None:
                assert future.result().result.successful, future.result().result.reason
                return
        raise AssertionError("no response from the policy's parameter services")

    def dead():
        return {n: p.stderr.read().decode()[-2000:] for n, p in procs.items() if p.poll() is not None}

    try:
        assert spin_until(lambda: sum(values(m)["configuration_id"] == first.name for m in results) >= 10, 180), dead()
        assert policy.wait_for_services(30)
        # 1. on command (the policy's table now names the other rate), the next frames switch rate
        set_policy(table_configurations=[second.name])
        assert spin_until(lambda: sum(values(m)["configuration_id"] == second.name for m in results) >= 10, 60), dead()
        frames = {int(m.header.frame_id): values(m) for m in results}
        rates = {i: int(v["rate"]) for i, v in frames.items()}
        assert {first.rate, second.rate} <= set(rates.values())
        switch = min(i for i, r in rates.items() if r == second.rate)
        assert switch - 1 in frames and rates[switch - 1] == first.rate     # no frame lost at the switch
        assert all(int(v["channel_uses"]) == int(v["rate"]) * int(v["tokens"]) for v in frames.values())
        want = core_labels("default", sorted({i % POOL for i in frames}), (640, 480),
                           {i % POOL: v["configuration_id"] for i, v in frames.items()})
        assert {i: int(v["class_id"]) for i, v in frames.items()} == {i: want[i % POOL] for i in frames}

        # 2. a frame at a rate the bundle has no JSCC code for: dropped, counted, the server carries on
        at4 = [c.rate for c in front.configurations].index(first.rate)
        m = 3 if 3 not in front.rates else max(front.rates) + 1
        odd = symbols_to_cloud(np.ones(4 * m, np.complex64), [0.0, 1.0, 1.0, 1.0], m, config=at4)
        n_before = len(results)
        assert spin_until(lambda: rx_pub.publish(odd) or
                          int(status.get("semcom_server", {}).get("unknown_rates", 0)) >= 1, 30), status
        assert spin_until(lambda: len(results) >= n_before + 10, 30)

        # 3. Lyapunov over every rate: the queue is charged per frame sent and holds the mean at the budget
        set_policy(mode="lyapunov", budget=budget, v=20.0, min_dwell_s=0.0)
        start = len(results)
        assert spin_until(lambda: int(status.get("semcom_policy", {}).get("frames_charged", 0)) >= 150, 60), status
        diag = status["semcom_policy"]
        assert float(diag["mean_channel_uses"]) <= 1.05 * budget, diag
        assert float(diag["budget"]) == budget
        sent = [int(values(m)["channel_uses"]) for m in results[start + 20:]]
        assert len(sent) >= 100 and np.mean(sent) <= 1.1 * budget, (np.mean(sent), budget)
    finally:
        driver.send_signal(2)
        codes = list(wiring.stop(procs).values())      # a crashed node's stderr goes to the report
        driver.wait(timeout=30)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
    assert codes == [0] * len(procs)
