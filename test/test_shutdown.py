"""Ctrl-C ends every node quietly with status 0, even while frames arrive faster than it can take them.

The signal shuts the ROS context down from rclpy's signal handler while the
executor may be anywhere in its loop (building a wait set, inside a callback,
publishing), so each round starts the five nodes as processes, drives them
above capacity with 640x480 frames, and sends SIGINT to all of them at once at
a random moment; no node may leave its shared-memory segments behind.
``SEMCOM_SIGINT_ROUNDS`` sets the rounds (each node gets one SIGINT per round).
"""
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor

from semcom_ros.nodes import system
from semcom_ros.nodes.base import RELIABLE

DRIVER = Path(__file__).parent / "camera_driver.py"
ROUNDS = int(os.environ.get("SEMCOM_SIGINT_ROUNDS", "3"))
LOAD = {"image_source": {"rate_hz": 120.0},                     # on top of the driver's 640x480 frames
        "semcom_camera": {"viz_rate_hz": 30.0},
        "semcom_channel": {"snr_db": 20.0, "snr_rate_hz": 100.0},
        "semcom_policy": {"min_dwell_s": 0.0}}


def shm_segments() -> set[str]:
    """Fast DDS's per-participant shared-memory segments (its port files are meant to stay)."""
    return {f.name for f in Path("/dev/shm").glob("fastdds_*") if "port" not in f.name}


def test_sigint_under_load_ends_every_node_with_status_0_and_no_traceback():
    rng = random.Random(7)
    driver = subprocess.Popen([sys.executable, str(DRIVER), "--frames", "1000000", "--rate", "80", "--size",
                               "640x480", "--pool", "20", "--wait", "600"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    rclpy.init()
    node = rclpy.create_node("shutdown_watcher")
    results = []
    node.create_subscription(DiagnosticArray, "classification", results.append, RELIABLE)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    problems, stuck = [], []
    try:
        end = time.monotonic() + 60          # the driver's participant (and its segments) exists before round 0
        while node.count_publishers("image") == 0 and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.1)
        for round_ in range(ROUNDS):
            segments = shm_segments()
            procs = system.spawn(LOAD, names=tuple(system.NODES), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            results.clear()
            end = time.monotonic() + 180
            while len(results) < 3 and time.monotonic() < end and all(p.poll() is None for p in procs.values()):
                executor.spin_once(timeout_sec=0.05)
            assert len(results) >= 3, f"round {round_}: the pipeline did not start"
            # let the load build up, then interrupt every node at once at a random moment
            pause = time.monotonic() + rng.uniform(0.0, 1.5)
            while time.monotonic() < pause:
                executor.spin_once(timeout_sec=0.01)
            for proc in procs.values():
                proc.send_signal(signal.SIGINT)
            stuck_here = False
            errs = {}
            for name, proc in procs.items():
                err = errs[name] = proc.communicate(timeout=60)[1].decode(errors="replace")
                if middleware_livelock(proc.returncode, err):
                    stuck.append(f"round {round_} {name}")
                    stuck_here = True
                    print(f"round {round_} {name}: the known Fast DDS livelock, ended by the watchdog\n{err[-1500:]}",
                          file=sys.stderr)
                elif proc.returncode != 0 or "Traceback" in err or "RCLError" in err:
                    problems.append(f"round {round_} {name}: status {proc.returncode}\n{err[-1500:]}")
            # each process took its DDS participant's shared-memory segments (tens of MB of RAM) with it,
            # except one whose participant was never destroyed (the livelock)
            left = shm_segments() - segments
            if left and not stuck_here:
                said = "".join(f"\n--- {n}:\n{e[-600:]}" for n, e in errs.items() if e.strip())
                problems.append(f"round {round_}: shared-memory segments outlived the nodes: {sorted(left)}{said}")
    finally:
        driver.send_signal(signal.SIGINT)
        try:
            driver.wait(timeout=30)
        except subprocess.TimeoutExpired:
            driver.kill()
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
    assert not problems, "\n".join(problems)
    # rare (none in 100 stops on 2026-12-01 and on 2026-12-06, one in 15 in a suite run): more is a regression
    assert len(stuck) <= 1, f"the middleware livelock in {len(stuck)} of {5 * ROUNDS} stops: {stuck}"


def middleware_livelock(status: int, err: str) -> bool:
    """A stop the teardown watchdog ended inside the participant's destruction (Fast DDS 3.2; docs/results.md).

    Upstream: the participant's destruction waits for a discovery callback that waits
    for a lock, while a peer that stops at the same moment is being undiscovered. The
    watchdog ends the process after ``TEARDOWN_LIMIT_S`` with status 1 and the stack,
    innermost first: rclpy's ``destroy_node`` (or a managed node's, releasing its state
    machine, which destroys the participant last), called from our teardown.
    """
    from semcom_ros.nodes.process import TEARDOWN_LIMIT_S

    limit = int(TEARDOWN_LIMIT_S)
    timeout = f"Timeout ({limit // 3600}:{limit // 60 % 60:02d}:{limit % 60:02d})!"     # faulthandler's words
    lines = [line.strip() for line in err.splitlines()]
    if status != 1 or timeout not in lines:
        return False
    frames = [f for f in lines[lines.index(timeout) + 2:] if f.startswith("File ")]
    inner = frames[:next((i for i, f in enumerate(frames) if f.endswith(" in teardown")), 0)]
    # only destroy_node between the teardown and where it stuck: rclpy's, or ManagedNode's (the state machine)
    return bool(inner) and all(f.endswith(" in destroy_node") and ("rclpy/node.py" in f or "nodes/managed.py" in f)
                               for f in inner)


LIVELOCK = """Timeout (0:00:04)!
Thread 0x00007fad90fc9540 (most recent call first):
  File "/venv/lib/python3.11/site-packages/rclpy/node.py", line 2082 in destroy_node
  File "/repo/semcom_ros/nodes/process.py", line 109 in teardown
  File "/repo/semcom_ros/nodes/process.py", line 70 in run_node
"""


def test_only_the_known_livelock_is_taken_for_it():
    """The stack a stop of the SIGINT test printed on 2026-12-06, and what must not pass for it."""
    assert middleware_livelock(1, "[INFO] ...\n" + LIVELOCK)
    assert not middleware_livelock(0, LIVELOCK)
    segfault = LIVELOCK.replace("Timeout (0:00:04)!", "Fatal Python error: Segmentation fault")
    assert not middleware_livelock(-11, segfault)
    managed = LIVELOCK.replace('line 2082 in destroy_node', 'line 2082 in destroy_node\n'
                               '  File "/repo/semcom_ros/nodes/managed.py", line 119 in destroy_node')
    assert middleware_livelock(1, managed)
    own = LIVELOCK.replace('"/venv/lib/python3.11/site-packages/rclpy/node.py", line 2082 in destroy_node',
                           '"/repo/semcom_ros/nodes/server.py", line 130 in cleanup')      # stuck in our code
    assert not middleware_livelock(1, own)
    assert not middleware_livelock(1, LIVELOCK.replace("in teardown", "in on_image"))     # not at the teardown
    assert not middleware_livelock(1, "Traceback (most recent call last):\n" + LIVELOCK.splitlines()[2])


# A node whose executor loses its context at the worst moment: after the loop checked that the
# context is fine and before the wait set is built, which is where a real SIGINT landed in a soak
# run (RCLError: failed to initialize wait set). The waitable's __enter__ runs in exactly that window.
RACE = """
import atexit, rclpy, sys
from rclpy.waitable import NumberOfEntities, Waitable
from semcom_ros.nodes.base import SemcomNode
from semcom_ros.nodes.process import run_node

class ShutdownMidLoop(Waitable):
    def __init__(self, node):
        super().__init__(node.default_callback_group)
        self.loops = 0

    def __enter__(self):
        self.loops += 1
        if self.loops == 5:
            rclpy.get_default_context().shutdown()     # what the SIGINT handler does, here at a fixed point

    def __exit__(self, *exc): pass

    def is_ready(self, wait_set): return False
    def take_data(self): return None
    async def execute(self, taken_data): return None
    def get_num_entities(self): return NumberOfEntities()
    def add_to_wait_set(self, wait_set): pass

class Busy(SemcomNode):
    def __init__(self):
        super().__init__("busy")
        self.add_waitable(ShutdownMidLoop(self))
        self.create_timer(0.001, lambda: None)

atexit.register(lambda: print("exit handlers ran", flush=True))
run_node(Busy, sys.argv[1:])
print("not reached: run_node leaves the process itself")
"""


def test_a_shutdown_between_the_executors_check_and_its_wait_set_ends_quietly():
    proc = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stdout.strip() == "exit handlers ran"      # a clean exit, skipping only the final collection


def test_ctrl_c_while_a_node_is_still_importing_ends_quietly():
    """A launch stopped right after it started: the SIGINT lands while torch and timm are importing."""
    codes = []
    for delay, signals in ((0.8, 1), (1.6, 1), (1.2, 2)):     # two: the terminal's Ctrl-C, then ros2 launch's
        proc = subprocess.Popen([sys.executable, "-m", "semcom_ros.nodes.start", "camera"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        for _ in range(signals):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err[-2000:]
        assert "edge active" not in err, "the interrupt came too late to test the import"
        codes.append(proc.returncode)
    assert codes == [0, 0, 0]


# A teardown that never finishes, as when Fast DDS livelocks destroying the participant while a peer stops
# at the same moment (seen once in 16 runs of a fleet test: a channel process spun for 40 minutes). Here
# the node's destroy_node blocks the same way, holding the GIL in a busy loop as the native call did.
STUCK = """
import sys, time
from semcom_ros.nodes.base import SemcomNode
from semcom_ros.nodes.process import run_node

class Stuck(SemcomNode):
    def __init__(self):
        super().__init__("stuck")
        self.create_timer(0.2, lambda: print("running", flush=True))

    def destroy_node(self):
        end = time.monotonic() + 120
        while time.monotonic() < end:
            pass

run_node(Stuck, sys.argv[1:])
"""


def test_a_teardown_that_never_finishes_is_ended_by_the_watchdog():
    from semcom_ros.nodes.process import TEARDOWN_LIMIT_S

    proc = subprocess.Popen([sys.executable, "-c", STUCK], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "running"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    # ended by the watchdog (TEARDOWN_LIMIT_S, 4 s), not by the 120-s loop; generous for a loaded machine
    assert took < TEARDOWN_LIMIT_S + 20, f"exit took {took:.1f} s"
    assert proc.returncode == 1 and "destroy_node" in err, (proc.returncode, err[-2000:])   # where it stuck


def test_stop_shows_what_a_process_that_did_not_exit_cleanly_wrote(capsys):
    crashed = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('native stack here'); sys.exit(3)"],
                               stderr=subprocess.PIPE)
    clean = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('not shown')"],
                             stderr=subprocess.PIPE)
    for p in (crashed, clean):              # both end on their own; stop collects them as it would a crashed node
        p.wait(timeout=60)
    assert system.stop({"crashed": crashed, "clean": clean}) == {"crashed": 3, "clean": 0}
    err = capsys.readouterr().err
    assert "crashed exited with 3" in err and "native stack here" in err and "not shown" not in err


# Ctrl-C while rclpy's C++ builds a message: the KeyboardInterrupt raised inside it reaches the executor
# as pybind11's RuntimeError (seen once in 20 SIGINT rounds, a policy process, status 1). Here a callback
# turns the KeyboardInterrupt into that RuntimeError, and rclpy's signal handlers are off, so the context
# stays valid (as it does until the signal thread gets to it): only the Ctrl-C itself tells it apart.
DISGUISED = """
import sys, time
import rclpy.signals
from semcom_ros.nodes.base import SemcomNode
from semcom_ros.nodes.process import run_node

class Converting(SemcomNode):
    def __init__(self):
        super().__init__("converting")
        rclpy.signals.uninstall_signal_handlers()      # the signal thread, late: Python's handler alone
        self.create_timer(0.01, self.convert)
        print("running", flush=True)

    def convert(self):
        try:
            time.sleep(0.01)
        except KeyboardInterrupt:
            raise RuntimeError("Unable to convert call argument '0' to Python object") from None

run_node(Converting, sys.argv[1:])
"""


def interrupt_when_running(script: str, after: float) -> tuple[int, str, str]:
    """Start ``script``, Ctrl-C it ``after`` seconds past its "running" line; its status, stdout, stderr."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "running"
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_ctrl_c_disguised_as_another_exception_by_rclpy_is_still_a_clean_stop():
    status, _, err = interrupt_when_running(DISGUISED, after=0.3)
    assert status == 0 and "Traceback" not in err, (status, err[-2000:])


def test_a_crash_while_running_still_shows_its_traceback():
    """The counterpart: the same RuntimeError with no Ctrl-C is a crash, status 1 with its traceback."""
    crash = DISGUISED.replace("except KeyboardInterrupt:", "finally:")
    proc = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Unable to convert call argument" in proc.stderr, proc.stderr[-2000:]


# A node busy in a callback when Ctrl-C comes: the interrupt must not land inside the callback (nor inside
# rclpy's code around it), where it left a handle marked in use once, and with it the DDS participant
# and its shared-memory segments after the process had exited with status 0.
BUSY = """
import sys, time
from semcom_ros.nodes.base import SemcomNode
from semcom_ros.nodes.process import run_node

class Sleeper(SemcomNode):
    def __init__(self):
        super().__init__("sleeper")
        self.create_timer(0.01, self.work)
        print("running", flush=True)

    def work(self):
        try:
            time.sleep(0.2)
        except KeyboardInterrupt:
            print("interrupted inside a callback", flush=True)
            raise

run_node(Sleeper, sys.argv[1:])
"""


def test_ctrl_c_while_spinning_ends_the_executor_between_callbacks():
    status, out, err = interrupt_when_running(BUSY, after=0.5)
    assert status == 0 and "Traceback" not in err, (status, err[-2000:])
    assert "interrupted inside a callback" not in out


def test_the_teardown_waits_for_the_signal_threads_shutdown_and_not_forever():
    """rclpy's signal thread shuts the context down after the main thread saw KeyboardInterrupt: wait for it."""
    import threading

    import rclpy
    from rclpy.context import Context

    from semcom_ros.nodes.process import settle

    context = Context()
    rclpy.init(context=context)
    try:
        late = threading.Timer(0.3, context.try_shutdown)      # what the signal thread does, late
        late.start()
        settle(context, limit=30.0)
        assert not context.ok()
        late.join()
        other = Context()
        rclpy.init(context=other)                              # no signal thread will shut this one down
        t0 = time.monotonic()
        settle(other, limit=0.2)
        assert other.ok() and time.monotonic() - t0 < 5.0
        other.try_shutdown()
    finally:
        context.try_shutdown()
