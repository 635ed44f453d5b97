"""The ROS 2 nodes with real rclpy: pipeline, policy switching, parameters, malformed input."""
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import Float32, String

from semcom_ros.nodes.camera import CameraNode
from semcom_ros.nodes.channel import ChannelNode
from semcom_ros.core.link.channels import pilot_symbols
from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.data.scene_sets import shelf_stream
from semcom_ros.nodes.image_source import ImageSourceNode
from semcom_ros.nodes.msg_convert import array_to_image
from semcom_ros.nodes.symbol_cloud import symbols_to_cloud
from semcom_ros.nodes.base import LATCHED, RELIABLE
from semcom_ros.nodes.policy import PolicyNode
from semcom_ros.nodes.server import ServerNode
from semcom_ros.nodes import system


@pytest.fixture
def ros():
    rclpy.init()
    executor = SingleThreadedExecutor()
    yield executor
    for node in list(executor.get_nodes()):
        executor.remove_node(node)
        node.destroy_node()
    executor.shutdown()
    rclpy.shutdown()


def spin_until(executor, condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not condition():
        executor.spin_once(timeout_sec=0.05)
    return condition()


def params(**kw):
    return [Parameter(k, value=v) for k, v in kw.items()]


class Observer(Node):
    """Collects what the system publishes."""

    def __init__(self):
        super().__init__("observer")
        self.results, self.truth, self.configs, self.viz, self.snr = [], {}, [], [], []
        self.create_subscription(DiagnosticArray, "classification", self.results.append, RELIABLE)
        self.create_subscription(DiagnosticArray, "ground_truth", self.on_truth, RELIABLE)
        self.create_subscription(String, "active_configuration", lambda m: self.configs.append(m.data), LATCHED)
        self.create_subscription(Image, "merge_viz", self.viz.append, qos_profile_sensor_data)
        self.create_subscription(Float32, "estimated_snr", lambda m: self.snr.append(m.data), RELIABLE)

    def on_truth(self, msg):
        values = {kv.key: kv.value for kv in msg.status[0].values}
        self.truth[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = int(values["index"])

    @staticmethod
    def values(msg):
        return {kv.key: kv.value for kv in msg.status[0].values}


def direct_labels(frames: dict, image=None):
    """The same frames through the core: edge, JSCC encoder, decoder at the top SNR, no noise.

    ``frames`` maps frame index -> configuration name the server reported for it;
    ``image`` gives frame ``i`` as the image source sent it (default: the embedded set's image i).
    """
    front = load_bundle("default").front(4)
    link = load_bundle("default").link(4, all_rates=True)
    if image is None:
        image = load_embedded_eval().images.__getitem__
    out = {}
    for i, name in frames.items():
        link.use(front.get(name))
        frame = link.edge(link.preprocess([image(i)]))
        logits = link.decode(frame.symbols, torch.tensor([25.0]), frame.sizes)
        out[i] = int(logits.argmax(-1))
    return out


def test_pipeline_in_process_matches_the_core(ros):
    obs = Observer()
    nodes = [*system.build({"image_source": {"rate_hz": 4.0, "max_frames": 8}, "semcom_camera": {"viz_rate_hz": 10.0},
                            "semcom_channel": {"snr_db": 60.0}}).values(), obs]
    for n in nodes:
        ros.add_node(n)
    assert spin_until(ros, lambda: len(obs.results) >= 6, 120)
    got, used = {}, {}
    for msg in obs.results:
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        values = Observer.values(msg)
        assert values["configuration_id"] in obs.configs
        # "S1 (p02)"
        assert values["configuration"] == load_bundle("default").front(4).label(values["configuration_id"])
        assert int(values["channel_uses"]) == int(values["rate"]) * int(values["tokens"])
        # camera stamp -> classification: covers at least the server's own compute, and no queue behind it
        assert float(values["server_compute_s"]) <= float(values["latency_s"]) < 2.0
        if key in obs.truth:                          # the shelf's labelled frames (an item at the centre)
            got[obs.truth[key]] = int(values["class_id"])
            used[obs.truth[key]] = values["configuration_id"]
    assert len(got) >= 2, obs.truth
    shelf = shelf_stream(speed=0.5, fps=4.0)           # the image source's default, at its rate_hz
    assert got == direct_labels(used, lambda i: shelf.frame(i)[0])
    assert used[max(used)] == obs.configs[-1]     # the policy's latest choice reached the camera
    assert obs.viz and obs.viz[0].encoding == "rgb8" and obs.viz[0].height > 0
    assert min(obs.snr) > 40                      # pilots measure the 60 dB link
    assert nodes[1].counters["bad_images"] == 0 and nodes[3].counters["bad_frames"] == 0


def test_snr_step_switches_configuration_and_camera_applies_it(ros):
    obs = Observer()
    camera = CameraNode(parameter_overrides=params(viz_rate_hz=0.0))
    policy = PolicyNode(parameter_overrides=params(min_dwell_s=0.0))
    channel = ChannelNode(parameter_overrides=params(profile="steps", step_times=[0.0, 4.0],
                                                     step_snrs=[0.0, 25.0], snr_rate_hz=10.0))
    source = ImageSourceNode(parameter_overrides=params(rate_hz=5.0))
    for n in (obs, camera, policy, channel, source, ServerNode()):
        ros.add_node(n)
    front = load_bundle("default").front(4)
    low, high = front.get("S1").name, front.get("S3").name
    assert spin_until(ros, lambda: camera.active == low and len(obs.results) >= 2, 60)
    assert spin_until(ros, lambda: camera.active == high, 60)
    n_before = len(obs.results)
    assert spin_until(ros, lambda: len(obs.results) >= n_before + 3, 60)
    last = Observer.values(obs.results[-1])
    assert last["configuration_id"] == high and last["configuration"].startswith("S3 (")
    first = Observer.values(obs.results[0])
    assert front.get("S3").gmacs < front.get("S1").gmacs         # the shipped front's S3 merges harder
    assert int(last["tokens"]) < int(first["tokens"])
    assert obs.configs[:1] == [low] and obs.configs[-1] == high


def test_parameters_change_at_run_time_and_bad_values_are_rejected(ros):
    camera = CameraNode(parameter_overrides=params(viz_rate_hz=0.0))
    policy = PolicyNode()
    channel = ChannelNode()
    front = load_bundle("default").front(4)
    ok = camera.set_parameters(params(configuration="S2"))[0]
    assert ok.successful and camera.active == front.get("S2").name
    bad = camera.set_parameters(params(configuration="warp9"))[0]
    assert not bad.successful and "unknown configuration 'warp9'" in bad.reason
    assert camera.active == front.get("S2").name
    assert not camera.set_parameters(params(pilot_records=0))[0].successful
    res = policy.set_parameters(params(mode="greedy"))[0]
    assert not res.successful and "greedy" in res.reason
    res = policy.set_parameters(params(table_configurations=["S1", "nope", "S3"]))[0]
    assert not res.successful and "nope" in res.reason
    assert policy.set_parameters(params(mode="lyapunov", budget=100.0))[0].successful
    assert policy.p("mode") == "lyapunov" and type(policy.policy).__name__ == "LyapunovPolicy"
    # the SNR table can be resized at run time: both lists in one atomic set; one alone is refused
    res = policy.set_parameters_atomically(params(table_snr_db=[-100.0, 10.0], table_configurations=["S1", "S3"]))
    assert res.successful, res.reason
    assert policy.p("table_configurations") == ["S1", "S3"]
    res = policy.set_parameters(params(table_snr_db=[-100.0, 5.0, 10.0]))[0]
    assert not res.successful and "3 entries" in res.reason
    assert not channel.set_parameters(params(snr_db=100.0))[0].successful
    assert not channel.set_parameters(params(profile="csv"))[0].successful       # no csv_path yet
    assert not channel.set_parameters(params(high_db=-20.0))[0].successful      # below low_db
    assert channel.set_parameters(params(snr_db=3.0))[0].successful
    assert channel.current_snr() == 3.0
    assert policy.counters["rejected_parameters"] == 3 and channel.counters["rejected_parameters"] == 3


def test_malformed_input_is_counted_and_nodes_keep_running(ros):
    pub_node = Node("feeder")
    img_pub = pub_node.create_publisher(Image, "image", 10)
    sym_pub = pub_node.create_publisher(PointCloud2, "channel_symbols", RELIABLE)
    rx_pub = pub_node.create_publisher(PointCloud2, "received_symbols", RELIABLE)
    snr_pub = pub_node.create_publisher(Float32, "link_snr", RELIABLE)
    camera = CameraNode(parameter_overrides=params(viz_rate_hz=0.0))
    channel, server, policy = ChannelNode(), ServerNode(), PolicyNode()
    diags = []
    pub_node.create_subscription(DiagnosticArray, "/diagnostics", diags.append, RELIABLE)
    for n in (pub_node, camera, channel, server, policy):
        ros.add_node(n)
    spin_until(ros, lambda: False, 1.0)   # discovery

    good = array_to_image(load_embedded_eval().images[0])
    yuv = array_to_image(np.zeros((8, 8, 3), np.uint8))
    yuv.encoding = "yuv422"
    short = array_to_image(np.zeros((8, 8, 3), np.uint8))
    short.data = short.data[:-5]

    def feed(pub, msg, node, counter):
        """Frames travel through depth-1 queues (newest wins): one at a time, each until counted."""
        before = node.counters[counter]
        pub.publish(msg)
        assert spin_until(ros, lambda: node.counters[counter] > before, 30), (counter, msg)

    feed(img_pub, yuv, camera, "bad_images")
    feed(img_pub, short, camera, "bad_images")
    feed(img_pub, good, camera, "frames_sent")
    assert camera.counters["bad_images"] == 2

    at4 = [c.rate for c in server.front.configurations].index(4)      # a configuration sent at rate 4
    cloud = symbols_to_cloud(np.ones(4 * 4, np.complex64), [0.0, 1.0, 1.0, 1.0], 4, config=at4)
    truncated = symbols_to_cloud(np.ones(4 * 4, np.complex64), [0.0, 1.0, 1.0, 1.0], 4)
    truncated.data = truncated.data[:-3]
    nan = symbols_to_cloud(np.full(4 * 4, np.nan, np.complex64), [0.0, 1.0, 1.0, 1.0], 4)
    no_pilots = symbols_to_cloud(np.ones(4 * 4, np.complex64), [1.0, 1.0, 1.0, 1.0], 4)
    other = next(i for i, c in enumerate(server.front.configurations) if c.rate != 4)
    rate_mismatch = symbols_to_cloud(np.ones(4 * 4, np.complex64), [0.0, 1.0, 1.0, 1.0], 4, config=other)
    bad_config = symbols_to_cloud(np.ones(4 * 4, np.complex64), [0.0, 1.0, 1.0, 1.0], 4, config=999)
    no_code = symbols_to_cloud(np.ones(3 * 4, np.complex64), [0.0, 1.0, 1.0, 1.0], 3, config=at4)
    feed(sym_pub, truncated, channel, "bad_frames")
    assert spin_until(ros, lambda: policy.counters["bad_frames"] >= 1, 10)   # not charged to the budget either
    for msg in (truncated, nan, no_pilots, rate_mismatch, bad_config):
        feed(rx_pub, msg, server, "bad_frames")
    feed(rx_pub, no_code, server, "unknown_rates")       # a rate the bundle has no JSCC code for
    feed(rx_pub, cloud, server, "frames_classified")
    assert server.counters["bad_frames"] == 5 and channel.counters["bad_frames"] == 1
    assert server.counters["unknown_rates"] == 1
    for value in (math.nan, math.inf, -1e30, 1e30, -61.0, 12.0):
        snr_pub.publish(Float32(data=value))
    assert spin_until(ros, lambda: policy.counters["bad_snr"] >= 5 and policy.last_snr == 12.0)
    assert policy.counters["bad_snr"] == 5         # NaN, Inf and absurd values never reached the policy
    # a noise-free link: the pilot estimate is absurd, so it is counted, not published; the frame is classified
    exact = symbols_to_cloud(np.concatenate([pilot_symbols(4).numpy(), np.ones(12, np.complex64)]),
                             [0.0, 1.0, 1.0, 1.0], 4, config=at4)
    published = []
    pub_node.create_subscription(Float32, "estimated_snr", lambda m: published.append(m.data), RELIABLE)
    before = server.counters["bad_snr"]
    feed(rx_pub, exact, server, "frames_classified")
    assert server.counters["bad_snr"] == before + 1 and server.robots[0].last["estimated_snr_db"] == "nan"
    noisy = symbols_to_cloud(np.concatenate([pilot_symbols(4).numpy() + np.array([0.1, -0.1, 0.1j, -0.1j]),
                                             np.ones(12, np.complex64)]), [0.0, 1.0, 1.0, 1.0], 4, config=at4)
    feed(rx_pub, noisy, server, "frames_classified")
    assert spin_until(ros, lambda: len(published) == 1, 10) and 10 < published[0] < 30
    assert server.counters["bad_snr"] == before + 1
    # the counters reach /diagnostics, flagged as warnings
    assert spin_until(ros, lambda: any(s.name == "semcom_server" and s.level == DiagnosticStatus.WARN and
                                       any(kv.key == "bad_frames" and int(kv.value) >= 5 for kv in s.values)
                                       for d in diags for s in d.status), 10)


def test_pipeline_across_processes():
    procs = []
    rclpy.init()
    obs = Observer()
    executor = SingleThreadedExecutor()
    executor.add_node(obs)
    try:
        procs = list(system.spawn({"image_source": {"rate_hz": 2.0}, "semcom_camera": {"viz_rate_hz": 0.0},
                                   "semcom_channel": {"snr_db": 60.0}}, names=tuple(system.NODES),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).values())
        assert spin_until(executor, lambda: len(obs.results) >= 3, 180), \
            [p.stderr.read(2000) if p.poll() is not None else "running" for p in procs]
        stamped = [(obs.truth[(m.header.stamp.sec, m.header.stamp.nanosec)], Observer.values(m))
                   for m in obs.results if (m.header.stamp.sec, m.header.stamp.nanosec) in obs.truth]
        got = {i: int(v["class_id"]) for i, v in stamped}
        # the image source's default: the shelf panned at its default speed, one frame per 1/rate_hz
        shelf = shelf_stream(speed=0.5, fps=2.0)
        assert got and got == direct_labels({i: v["configuration_id"] for i, v in stamped},
                                            lambda i: shelf.frame(i)[0])
    finally:
        for p in procs:
            p.send_signal(2)          # Ctrl-C
        codes = [p.wait(timeout=30) for p in procs]
        executor.shutdown()
        obs.destroy_node()
        rclpy.shutdown()
    assert codes == [0] * len(procs)    # clean shutdown on Ctrl-C


@pytest.mark.parametrize("module,args,reason", [
    ("semcom_ros.nodes.policy", ["mode:=bogus"], "bogus"),
    ("semcom_ros.nodes.channel", ["profile:=csv"], "csv"),
    ("semcom_ros.nodes.image_source", ["source:=folder", "path:=/nonexistent"], "no images in folder"),
    ("semcom_ros.nodes.camera", ["compile_configurations:=[warp9]"], "unknown configuration 'warp9'"),
    # refused while the node is still being declared: nothing but the one line may follow
    ("semcom_ros.nodes.image_source", ["rate_hz:=fast"], "rate_hz"),
    ("semcom_ros.nodes.image_source", ["rate_hz:=500"], "out of range"),
    ("semcom_ros.nodes.channel", ["snr_db:=100.0"], "out of range"),
    ("semcom_ros.nodes.server", ["topk:=0"], "out of range"),
    ("semcom_ros.nodes.camera", ["power:=true"], "power"),
    ("semcom_ros.nodes.policy", ["budget:=abc"], "budget"),
    ("semcom_ros.nodes.policy", ["rates:=[3]"], "rates [3] are not in the front"),
    ("semcom_ros.nodes.server", ["robots:=[r1,r1]"], "names a robot twice"),
    ("semcom_ros.nodes.server", ["max_padding:=1.5"], "out of range"),
    ("semcom_ros.nodes.fleet_policy", ["robots:=['']"], "needs robot namespaces"),
    ("semcom_ros.nodes.fleet_policy", ["weights:=[1.0,2.0]"], "2 weights for 3 robots"),
    ("semcom_ros.nodes.fleet_policy", ["mode:=greedy"], "greedy"),
])
def test_a_node_that_cannot_start_says_why_in_one_line_and_exits_1(module, args, reason):
    ros_args = [a for arg in args for a in ("-p", arg)]
    proc = subprocess.run([sys.executable, "-m", module, "--ros-args", *ros_args], capture_output=True,
                          timeout=120, text=True)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "FATAL" in line]
    assert len(lines) == 1 and "cannot start" in lines[0] and reason in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_diagnostics_warn_while_trouble_is_recent_then_recover(ros):
    policy = PolicyNode()
    seen = []
    watcher = Node("diag_watcher")
    watcher.create_subscription(DiagnosticArray, "/diagnostics",
                                lambda m: seen.extend(s for s in m.status if s.name == "semcom_policy"), RELIABLE)
    for n in (policy, watcher):
        ros.add_node(n)
    policy.WARN_WINDOW_S = 1.5
    assert not policy.set_parameters(params(mode="greedy"))[0].successful
    assert spin_until(ros, lambda: any(s.level == DiagnosticStatus.WARN and "greedy" in s.message for s in seen), 10)
    seen.clear()
    assert spin_until(ros, lambda: any(s.level == DiagnosticStatus.OK for s in seen), 10)
    last = {kv.key: kv.value for kv in seen[-1].values}
    assert last["rejected_parameters"] == "1" and seen[-1].message == "ok"     # history kept, level recovered


def test_whole_numbers_for_float_parameters_and_absurd_snrs_across_processes(tmp_path):
    """Users type 10 for 10.0: -p, a params file, ros2 param set and atomic sets all accept it, range-checked."""
    from rclpy.parameter_client import AsyncParameterClient

    yaml_file = tmp_path / "policy.yaml"
    yaml_file.write_text("semcom_policy:\n  ros__parameters:\n    table_snr_db: [-100, 8, 16]\n    budget: 150\n")
    proc = subprocess.Popen([sys.executable, "-m", "semcom_ros.nodes.policy", "--ros-args", "--params-file",
                             str(yaml_file), "-p", "v:=50", "-p", "min_dwell_s:=0"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    rclpy.init()
    node = rclpy.create_node("param_user")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    client = AsyncParameterClient(node, "semcom_policy")
    configs, status = [], {}
    node.create_subscription(String, "active_configuration", lambda m: configs.append(m.data), LATCHED)
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: status.update(
        {s.name: {kv.key: kv.value for kv in s.values} for s in m.status}), RELIABLE)
    snr_pub = node.create_publisher(Float32, "link_snr", RELIABLE)

    def call(request):
        """A parameter service call; sent again if the response is lost (as happens just after discovery)."""
        for _ in range(3):
            future = request()
            executor.spin_until_future_complete(future, timeout_sec=20)
            if future.done() and future.result() is not None:
                return future.result()
        raise AssertionError("no response from the policy's parameter services")

    try:
        assert client.wait_for_services(60), proc.stderr.read1(3000) if proc.poll() is not None else "no services"
        names = ["table_snr_db", "budget", "v", "min_dwell_s"]
        got = dict(zip(names, call(lambda: client.get_parameters(names)).values))
        assert list(got["table_snr_db"].double_array_value) == [-100.0, 8.0, 16.0]
        assert (got["budget"].double_value, got["v"].double_value, got["min_dwell_s"].double_value) == (150, 50, 0)
        # ros2 param set /semcom_policy hysteresis_db 2
        results = call(lambda: client.set_parameters([Parameter("hysteresis_db", value=2)])).results
        assert results[0].successful, results[0].reason
        table = [Parameter("table_snr_db", value=[-100, 10]), Parameter("table_configurations", value=["S1", "S3"])]
        res = call(lambda: client.set_parameters_atomically(table))
        assert res.result.successful, res.result.reason
        wrong = [Parameter("hysteresis_db", value=50), Parameter("budget", value="9"), Parameter("v", value=True)]
        refused = call(lambda: client.set_parameters(wrong)).results
        assert [r.successful for r in refused] == [False, False, False]
        got = dict(zip(["hysteresis_db", "table_snr_db"],
                       call(lambda: client.get_parameters(["hysteresis_db", "table_snr_db"])).values))
        assert got["hysteresis_db"].double_value == 2.0 and list(got["table_snr_db"].double_array_value) == [-100, 10]
        # link SNRs no radio link has: dropped and counted; a real one (20 dB) switches to the high level
        end = time.monotonic() + 30
        while time.monotonic() < end and int(status.get("semcom_policy", {}).get("bad_snr", 0)) < 2:
            for value in (-1e30, 1e30):
                snr_pub.publish(Float32(data=value))
            executor.spin_once(timeout_sec=0.2)
        diag = status["semcom_policy"]
        assert int(diag["bad_snr"]) >= 2 and int(diag["rejected_parameters"]) in (3, 6, 9)     # 3 per attempt
        assert diag["link_snr_db"] == "nan" and len(set(configs)) == 1
        snr_pub.publish(Float32(data=20.0))
        high = load_bundle("default").front(4).get("S3").name
        assert spin_until(executor, lambda: configs[-1] == high, 30)
    finally:
        proc.send_signal(2)
        code = proc.wait(timeout=30)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
    assert code == 0
