"""A fleet across OS processes at 640x480: three robots, one server process, one fleet policy.

Each robot is a camera-driver process (its own frames: frame_ids 0.., 1000.., 2000..),
a camera process and a channel process in its namespace (25, 15 and -5 dB); one
server process serves all three and one fleet policy process shares one budget.
The test process decodes every received frame it sees with the core, to know what
the server must answer for that frame's header.
"""
import math
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.link.padded_batch import ReceivedFrame, decode_frames
from semcom_ros.nodes import system as wiring
from semcom_ros.nodes.base import NEWEST_FRAME, RELIABLE
from semcom_ros.nodes.msg_convert import MessageError
from semcom_ros.nodes.symbol_cloud import cloud_to_symbols

DRIVER = Path(__file__).parent / "camera_driver.py"
ROBOTS = {"r1": 25.0, "r2": 15.0, "r3": -5.0}
FIRST_ID = {"r1": 0, "r2": 1000, "r3": 2000}
HZ = 8.0
BUDGET = len(ROBOTS) * HZ * 80.0       # 80 channel uses per frame on average, shared
BUNDLE = "garments"      # the small bundle: its front's channel uses (from 10 a frame) make 80 a real choice


def spinner(executor):
    """spin_until(cond, timeout): spin ``executor`` until ``cond()`` holds or time is up; returns ``cond()``."""
    def spin_until(cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not cond():
            executor.spin_once(timeout_sec=0.05)
        return cond()
    return spin_until


def core_answer(link, front, msg):
    """The class the core gives a received frame (what the server must publish for its header); None if broken."""
    try:
        symbols, sizes, m, config = cloud_to_symbols(msg)
    except MessageError:
        return None
    conf = front.configurations[config]
    pilots = int((sizes == 0).sum())
    frame = ReceivedFrame.from_received(torch.from_numpy(symbols), pilots * m, torch.from_numpy(sizes[pilots:]), m,
                                        MergeSchedule.of(conf))
    return int(decode_frames(link, [frame])[0].argmax())


def test_three_robots_one_server_one_shared_budget_across_processes():
    bundle = load_bundle(BUNDLE)
    link, front = bundle.link(4, all_rates=True), bundle.front(4)
    popen = dict(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs = wiring.spawn({"semcom_server": {"robots": list(ROBOTS), "bundle": BUNDLE},
                          "semcom_fleet_policy": {"robots": list(ROBOTS), "budget": BUDGET, "min_dwell_s": 0.5,
                                                  "bundle": BUNDLE}},
                         names=("semcom_server", "semcom_fleet_policy"), **popen)
    drivers = {}
    for r, snr in ROBOTS.items():
        for name, p in wiring.spawn({"semcom_camera": {"viz_rate_hz": 0.0, "bundle": BUNDLE},
                                     "semcom_channel": {"snr_db": snr, "seed": FIRST_ID[r]}},
                                    names=("semcom_camera", "semcom_channel"), namespace=r, **popen).items():
            procs[f"{r}/{name}"] = p
        drivers[r] = subprocess.Popen([sys.executable, str(DRIVER), "--topic", f"/{r}/image", "--frames", "100000",
                                       "--rate", str(HZ), "--size", "640x480", "--reliability", "reliable",
                                       "--start-index", str(FIRST_ID[r]), "--pool", "60", "--wait", "180"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rclpy.init()
    node = rclpy.create_node("fleet_watcher")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    results = {r: [] for r in ROBOTS}
    expected = {r: {} for r in ROBOTS}
    status = {}
    for r in ROBOTS:
        node.create_subscription(DiagnosticArray, f"/{r}/classification",
                                 lambda m, r=r: results[r].append((time.monotonic(), m)), RELIABLE)
        node.create_subscription(PointCloud2, f"/{r}/received_symbols",
                                 lambda m, r=r: expected[r].update({m.header.frame_id: core_answer(link, front, m)}),
                                 NEWEST_FRAME)
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: status.update(
        {(s.hardware_id, s.name): {kv.key: kv.value for kv in s.values} for s in m.status}), RELIABLE)

    spin_until = spinner(executor)

    def dead():
        return {n: p.stderr.read().decode()[-2000:] for n, p in {**procs, **drivers}.items() if p.poll() is not None}

    def values(msg):
        return {kv.key: kv.value for kv in msg.status[0].values}

    def diag(name):
        return next((v for (hw, n), v in status.items() if n == name), {})

    try:
        assert spin_until(lambda: all(len(v) >= 40 for v in results.values()), 240), (
            {r: len(v) for r, v in results.items()}, dead())
        # 1. headers and labels: each robot's results carry its own frames and the core's answer for them
        for r, got in results.items():
            ids = [int(m.header.frame_id) for _, m in got]
            assert all(FIRST_ID[r] <= i < FIRST_ID[r] + 1000 for i in ids), (r, ids[:10])
            assert all(values(m).get("robot") == r for _, m in got)
            checked = [(m.header.frame_id, int(values(m)["class_id"])) for _, m in got
                       if m.header.frame_id in expected[r]]
            assert len(checked) >= 0.5 * len(got), (r, len(checked), len(got))
            assert all(expected[r][fid] == cls for fid, cls in checked), r
        # 2. none lost beyond newest-frame skipping
        server = diag("semcom_server")
        assert spin_until(lambda: all(f"{r}/frames_classified" in diag("semcom_server") for r in ROBOTS), 10)
        server = diag("semcom_server")
        for r in ROBOTS:
            got_in = int(server.get(f"{r}/frames_in", 0))
            done = int(server[f"{r}/frames_classified"]) + int(server.get(f"{r}/frames_replaced", 0))
            assert got_in - 1 <= done <= got_in, (r, server)
        # 3. the fleet policy: the -5 dB robot runs other configurations than the 25 dB one, costing more uses
        confs = {r: Counter(values(m)["configuration_id"] for _, m in got[len(got) // 2:]) for r, got in
                 results.items()}
        assert confs["r3"].most_common(1)[0][0] != confs["r1"].most_common(1)[0][0], confs
        uses = {r: sum(int(values(m)["channel_uses"]) for _, m in got[len(got) // 2:]) / (len(got) - len(got) // 2)
                for r, got in results.items()}
        assert uses["r3"] > uses["r1"], uses
        policy = diag("semcom_fleet_policy")
        assert float(policy["budget_per_s"]) == BUDGET and int(policy["r3/frames_charged"]) > 0, policy
        # bad input is counted against the robot it came from, and everyone carries on
        snr_pub = node.create_publisher(Float32, "/r1/link_snr", RELIABLE)
        sent_pub = node.create_publisher(PointCloud2, "/r2/channel_symbols", RELIABLE)
        rx_pub = node.create_publisher(PointCloud2, "/r3/received_symbols", RELIABLE)
        broken = PointCloud2(height=1, width=3, point_step=4, row_step=12, data=bytes(5))
        before = {r: len(v) for r, v in results.items()}

        def counted():
            snr_pub.publish(Float32(data=math.nan))
            sent_pub.publish(broken)
            rx_pub.publish(broken)
            p, s = diag("semcom_fleet_policy"), diag("semcom_server")
            return (int(p.get("r1/bad_snr", 0)) >= 1 and int(p.get("r2/bad_frames", 0)) >= 1
                    and int(s.get("r3/bad_frames", 0)) >= 1)
        assert spin_until(counted, 30), (diag("semcom_fleet_policy"), diag("semcom_server"))
        assert spin_until(lambda: all(len(results[r]) >= before[r] + 5 for r in ROBOTS), 30)
        # 5. tuning at run time, as `ros2 param set` does: a wrong weights list is refused with the reason
        client = AsyncParameterClient(node, "semcom_fleet_policy")
        assert client.wait_for_services(30)

        def set_policy(**kw):
            for _ in range(3):      # a response can be lost just after discovery: ask again
                future = client.set_parameters_atomically([Parameter(k, value=v) for k, v in kw.items()])
                executor.spin_until_future_complete(future, timeout_sec=20)
                if future.done() and future.result() is not None:
                    return future.result().result
            raise AssertionError("no response from the fleet policy's parameter services")
        refused = set_policy(weights=[1.0, 2.0])
        assert not refused.successful and "2 weights for 3 robots" in refused.reason, refused.reason
        assert set_policy(weights=[1.0, 1.0, 3.0], budget=BUDGET * 2).successful
        assert spin_until(lambda: float(diag("semcom_fleet_policy").get("budget_per_s", 0)) == BUDGET * 2
                          and diag("semcom_fleet_policy").get("r3/weight") == "1.8", 10), diag("semcom_fleet_policy")
        # 4. a robot that stops publishing does not stall the others
        drivers["r2"].send_signal(2)
        drivers["r2"].wait(timeout=30)
        time.sleep(0.5)
        counts = {r: len(v) for r, v in results.items()}
        assert spin_until(lambda: all(len(results[r]) >= counts[r] + 30 for r in ("r1", "r3")), 60), (
            counts, {r: len(v) for r, v in results.items()})
        assert len(results["r2"]) <= counts["r2"] + 2
    finally:
        for p in drivers.values():
            if p.poll() is None:
                p.send_signal(2)
        codes = wiring.stop(procs)
        for p in drivers.values():
            p.wait(timeout=30)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
    assert codes == {n: 0 for n in procs}, codes


def test_frames_waiting_together_are_decoded_in_one_pass_with_their_one_frame_labels():
    """A server process with a batch window: four robots' 640x480 frames, merged four ways, share passes."""
    from semcom_ros.core.link.channels import propagate, with_pilots
    from semcom_ros.core.data.datasets import load_embedded_eval
    from semcom_ros.nodes.symbol_cloud import symbols_to_cloud

    sys.path.insert(0, str(Path(__file__).parent))
    from semcom_ros.core.data.frame_sources import camera_frame

    bundle = load_bundle(BUNDLE)
    link, front = bundle.link(4, all_rates=True), bundle.front(4)
    robots = ["a", "b", "c", "d"]
    ratio_confs = [c for c in front.configurations if c.thresholds is None]
    confs = [ratio_confs[0], ratio_confs[len(ratio_confs) // 2], ratio_confs[-1]]
    schedules = [MergeSchedule(ratios=c.ratios) for c in confs] + [MergeSchedule(thresholds=[0.7] * link.depth)]
    data = load_embedded_eval()
    gen = torch.Generator().manual_seed(0)
    rounds = []
    for k in range(8):
        msgs = {}
        for j, (r, conf, schedule) in enumerate(zip(robots, confs + [confs[0]], schedules)):
            link.rate, link.schedule = conf.rate, schedule
            edge = link.edge(link.preprocess([camera_frame(data.images[10 * k + j], 640, 480)]))
            y, _, _ = propagate(with_pilots(edge.symbols, 4 * conf.rate), "awgn", 20.0, gen)
            frame = ReceivedFrame.from_received(y[0], 4 * conf.rate, edge.sizes[0], conf.rate, schedule)
            msg = symbols_to_cloud(y[0].numpy(), [0.0] * 4 + edge.sizes[0].tolist(), conf.rate,
                                   config=front.names.index(conf.name))
            msg.header.frame_id = f"{r}:{k}"
            msgs[r] = (msg, frame)
        rounds.append(msgs)
    # the server decodes by each frame's configuration: the threshold robot's frame says confs[0], whose ratios
    # do not merge after the split here (split = depth), so what it must answer is its own one-frame logits
    want = {m.header.frame_id: int(decode_frames(link, [f])[0].argmax()) for msgs in rounds for m, f in msgs.values()}
    assert len({f.tokens for _, f in rounds[0].values()}) >= 3
    proc = wiring.spawn({"semcom_server": {"robots": robots, "batch_window_ms": 500.0, "max_padding": 1.0,
                                           "bundle": BUNDLE}},
                        names=("semcom_server",), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)["semcom_server"]
    rclpy.init()
    node = rclpy.create_node("batch_feeder")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    got, status = {}, {}
    pubs = {r: node.create_publisher(PointCloud2, f"/{r}/received_symbols", RELIABLE) for r in robots}
    for r in robots:
        node.create_subscription(DiagnosticArray, f"/{r}/classification", lambda m, r=r: got.update(
            {m.header.frame_id: (r, {kv.key: kv.value for kv in m.status[0].values})}), RELIABLE)
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: status.update(
        {s.name: {kv.key: kv.value for kv in s.values} for s in m.status}), RELIABLE)

    spin_until = spinner(executor)

    try:
        assert spin_until(lambda: all(p.get_subscription_count() for p in pubs.values()) or proc.poll() is not None,
                          120), proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no server"
        for msgs in rounds:
            for r, (msg, _) in msgs.items():
                pubs[r].publish(msg)
            assert spin_until(lambda: all(m.header.frame_id in got for m, _ in msgs.values()), 30), sorted(got)
        assert spin_until(lambda: int(status.get("semcom_server", {}).get("batched_frames", 0)) >= 32, 10)
        diag = status["semcom_server"]
    finally:
        proc.send_signal(2)
        code = proc.wait(timeout=30)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
    assert {fid: (robot, int(v["class_id"])) for fid, (robot, v) in got.items()} == \
        {fid: (fid.split(":")[0], cls) for fid, cls in want.items()}
    assert float(diag["mean_batch"]) >= 3.0, diag        # four robots' frames per pass, not one at a time
    assert code == 0
