"""A node's process from start to exit: one line and status 1 when it cannot start, status 0 on Ctrl-C."""
from __future__ import annotations

import atexit
import faulthandler
import os
import signal
import sys
import time
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions, get_current_signal_handlers_options

from .base import use_packaged_dds_profile

# Fast DDS 3.2 can livelock destroying a participant while a peer that stops at the same moment is
# being undiscovered (the main thread busy-waits in DomainParticipant::set_listener, holding the GIL,
# for a discovery callback blocked on a lock): the process would spin until killed. So the teardown
# gets this long, then faulthandler's own thread, which needs no GIL, prints where it stuck and ends
# the process with status 1: inside ros2 launch's 5-s SIGINT grace, never a core lost until reboot.
TEARDOWN_LIMIT_S = 4.0
# On Ctrl-C rclpy's own signal thread triggers the executors' SIGINT guard conditions and then shuts
# the context down, while this (main) thread already sees KeyboardInterrupt. Tearing down meanwhile
# frees what that thread is using (the executor unregisters its guard condition, which frees the list
# being walked): a rare segfault in a thread that is not Python's, exit status -11 instead of 0. So the
# teardown waits for that thread's shutdown first, this long at most (ours is ms).
SIGNAL_THREAD_LIMIT_S = 1.0


def run_node(node_factory: Callable[[], Node], args: list[str] | None = None) -> None:
    """Standard main: init, spin until Ctrl-C or shutdown, then tear down in order.

    A node that cannot start (bad parameter, missing file, no CUDA) logs one
    line saying why and the process exits with status 1, so ``ros2 launch``
    and supervisors see the failure instead of a half-running system. Once a
    shutdown has begun (Ctrl-C, SIGTERM, ``ros2 launch`` stopping), whatever the
    executor was doing when the context went away ends quietly with status 0.
    """
    use_packaged_dds_profile()
    sigint = SigintWatch()      # before rclpy.init, whose signal handler chains to this one
    rclpy.init(args=args)
    context = rclpy.get_default_context()
    executor = SingleThreadedExecutor()
    node = None
    failed = None
    interrupted = False
    try:
        node = node_factory()    # a managed node with autostart configures and activates here, or says why not
        executor.add_node(node)
        sigint.spinning = True
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        interrupted = True
    except Exception as exc:
        # Ctrl-C raced the executor: with the context gone (e.g. RCLError creating a wait set), or
        # KeyboardInterrupt raised inside rclpy's C++ while it built a message, which pybind11 hands
        # on as a RuntimeError ("Unable to convert call argument '0' to Python object"): a clean stop
        interrupted = sigint.seen
        if context.ok() and not interrupted:
            if node is not None:        # a crash while running: keep the traceback
                raise
            failed = f"{getattr(node_factory, '__name__', 'node')} cannot start: {exc}"
            get_logger("semcom_ros").fatal(failed)
    finally:
        # Ctrl-C in a terminal reaches every process of the group and ros2 launch sends its
        # own SIGINT too: a second one must not interrupt the teardown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if interrupted or not context.ok():
            settle(context)
        faulthandler.dump_traceback_later(TEARDOWN_LIMIT_S, exit=True)
        teardown(executor, node, quiet=node is None)
        faulthandler.cancel_dump_traceback_later()
    leave(1 if failed else 0)


class SigintWatch:
    """Python's Ctrl-C handler, except that while the executor spins it only records the Ctrl-C.

    A KeyboardInterrupt raised at whatever bytecode the main thread is running can land inside
    rclpy's own code: pybind11 hands it on as a RuntimeError when rclpy's C++ was building a
    message, or it skips the release of a handle in use, which then keeps the node, and the DDS
    participant with its shared-memory segments, alive past the process. While spinning, rclpy's
    signal thread already wakes the executor and shuts the context down, so the executor ends
    between callbacks; before that (imports, model loading), Ctrl-C still interrupts at once.
    """

    def __init__(self):
        self.seen = False
        self.spinning = False
        signal.signal(signal.SIGINT, self._handler)

    def _handler(self, signum, frame):
        self.seen = True
        rclpy_handles_it = get_current_signal_handlers_options() in (SignalHandlerOptions.ALL,
                                                                     SignalHandlerOptions.SIGINT)
        if self.spinning and rclpy_handles_it:
            return
        signal.default_int_handler(signum, frame)


def leave(status: int) -> None:
    """Exit now that ROS is torn down, skipping the interpreter's final garbage collection.

    With torch, timm and a model loaded that collection took seconds on a loaded machine, past
    ros2 launch's SIGINT grace. Exit handlers still run and output is flushed; the DDS participant
    (and its shared-memory segments) are already gone, so nothing is left behind.
    """
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def settle(context, limit: float = SIGNAL_THREAD_LIMIT_S) -> None:
    """Return once rclpy's signal thread has shut ``context`` down (or ``limit`` has passed)."""
    end = time.monotonic() + limit
    while context.ok() and time.monotonic() < end:
        time.sleep(0.005)
    time.sleep(0.02)        # the context is marked invalid first; the rest of its shutdown is a flag


def teardown(executor, node, quiet: bool) -> None:
    """Shut the executor, the node and the context down, each even if an earlier step failed.

    ``quiet``: the node never finished building (its start-up was refused), so its
    half-made state cannot be torn down meaningfully and nothing is printed after
    the one line that said why.
    """
    steps = [executor.shutdown, *([node.destroy_node] if node is not None else []), rclpy.try_shutdown]
    for step in steps:
        try:
            step()
        except Exception as exc:
            if not quiet and rclpy.ok():
                raise
            if not quiet:       # after a shutdown: one line, so a step that left something behind is known
                print(f"semcom_ros teardown: {getattr(step, '__qualname__', step)} failed: {exc!r}",
                      file=sys.stderr, flush=True)
