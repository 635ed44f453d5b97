"""What both pipeline benchmarks share: their run arguments, percentiles and a bounded spin."""
from __future__ import annotations

import argparse
import time

import numpy as np


def spin_until(executor, done, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1e3, q)) if len(values) else float("nan")


def add_run_args(ap: argparse.ArgumentParser) -> None:
    """The paced and overload phases both pipeline benchmarks run."""
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rate", type=float, default=10.0, help="paced input rate (Hz), below capacity")
    ap.add_argument("--overload-rate", type=float, default=500.0, help="input rate (Hz) above capacity")
    ap.add_argument("--overload-s", type=float, default=6.0)
    ap.add_argument("--configuration", default="S1")
