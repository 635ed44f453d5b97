"""The nodes' console scripts: a Ctrl-C that arrives while a node is still importing ends quietly too.

A node module imports torch, timm and rclpy (seconds on a cold start). A SIGINT in
that window, a launch stopped right after it started, would otherwise print a
KeyboardInterrupt traceback and make ``ros2 launch`` report the process as died.
Once imported, ``process.run_node`` takes over (status 0 on Ctrl-C, 1 with one line
when the node cannot start).

    python -m semcom_ros.nodes.start camera --ros-args -p rate:=4
"""
from __future__ import annotations

import faulthandler
import importlib
import os
import signal
import sys


def interrupted(signum, frame):
    # nothing has started yet (no DDS participant, no open files): leave at once, quietly, whatever
    # the import was doing; ros2 launch's own SIGINT after the terminal's cannot cut this short
    os._exit(0)


def run(node_module: str) -> None:
    faulthandler.enable()       # a crash in native code (DDS, torch) leaves the Python stack on stderr
    signal.signal(signal.SIGINT, interrupted)
    main = importlib.import_module(f"{__package__}.{node_module}").main
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()


def image_source() -> None:
    run("image_source")


def camera() -> None:
    run("camera")


def channel() -> None:
    run("channel")


def server() -> None:
    run("server")


def policy() -> None:
    run("policy")


def fleet_policy() -> None:
    run("fleet_policy")


def classifier() -> None:
    run("classifier")


if __name__ == "__main__":
    run(sys.argv.pop(1))
