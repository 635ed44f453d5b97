"""Link-SNR profiles for the channel emulator: what the mean SNR is at time t (seconds).

``trajectory`` is the slow part of a moving robot's link (METHOD §7): the robot
drives back and forth between two distances from the access point at
``speed_mps``; the SNR is log-distance path loss plus log-normal shadowing that
belongs to the place (the same on every pass), correlated over
``shadowing_distance_m`` (Gudmundson, ρ(d) = exp(-d/d_c)). The fast fading on
top comes from the channel model, not from here.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .channel_models import gauss_markov

PROFILES = ("constant", "steps", "sine", "random_walk", "trajectory", "csv")
# Link SNRs outside this range are not measurements of a radio link but faults (a sensor's
# sentinel value, an unset field, a noise-free estimate): nodes drop them and count them.
PLAUSIBLE_SNR_DB = (-60.0, 100.0)


def implausible_snr(snr_db: float) -> str | None:
    """Why ``snr_db`` cannot be a link SNR (NaN, infinite, outside PLAUSIBLE_SNR_DB), or None."""
    lo, hi = PLAUSIBLE_SNR_DB
    if not math.isfinite(snr_db):
        return f"{snr_db} dB is not finite"
    if not lo <= snr_db <= hi:
        return f"{snr_db:.4g} dB is outside the plausible {lo:g}..{hi:g} dB"
    return None


@dataclass
class SnrProfile:
    kind: str = "constant"
    snr_db: float = 20.0                  # constant
    step_times: Sequence[float] = ()      # steps: SNR step_snrs[i] from step_times[i] on
    step_snrs: Sequence[float] = ()
    low_db: float = -5.0                  # sine: starts at low, peaks at high after period/2
    high_db: float = 25.0
    period_s: float = 60.0
    walk_step_db: float = 1.0             # random walk: step per second, clipped to [low, high]
    csv_path: str = ""                    # csv: rows "time_s,snr_db", held between rows
    seed: int = 0
    speed_mps: float = 1.0                # trajectory: robot speed
    distance_min_m: float = 3.0           # trajectory: closest and farthest distance to the access point
    distance_max_m: float = 30.0
    snr_at_1m_db: float = 40.0            # trajectory: mean SNR 1 m from the access point
    path_loss_exponent: float = 3.0
    shadowing_db: float = 6.0             # trajectory: shadowing standard deviation
    shadowing_distance_m: float = 10.0    # trajectory: shadowing decorrelation distance d_c

    def __post_init__(self):
        if self.kind not in PROFILES:
            raise ValueError(f"unknown SNR profile {self.kind!r}; use one of {PROFILES}")
        if self.kind == "steps":
            if not self.step_times or len(self.step_times) != len(self.step_snrs):
                raise ValueError("steps profile needs step_times and step_snrs of the same non-zero length")
            if list(self.step_times) != sorted(self.step_times):
                raise ValueError("step_times must be increasing")
        if self.kind == "sine" and self.period_s <= 0:
            raise ValueError("sine profile needs period_s > 0")
        if self.high_db < self.low_db:
            raise ValueError("high_db must be >= low_db")
        self._walk = None
        if self.kind == "csv":
            if not str(self.csv_path).strip():
                raise ValueError("the csv profile needs csv_path: a file of time_s,snr_db rows")
            self._trace = load_trace(self.csv_path)
        if self.kind == "trajectory":
            if not 0 < self.distance_min_m < self.distance_max_m:
                raise ValueError("trajectory needs 0 < distance_min_m < distance_max_m")
            if self.speed_mps <= 0 or self.shadowing_distance_m <= 0 or self.shadowing_db < 0:
                raise ValueError("trajectory needs speed_mps > 0, shadowing_distance_m > 0, shadowing_db >= 0")
            self._shadow = shadowing_map(self.distance_min_m, self.distance_max_m, self.shadowing_db,
                                         self.shadowing_distance_m, self.seed)
        values = [self.snr_db, self.low_db, self.high_db, *self.step_snrs, self.snr_at_1m_db, self.path_loss_exponent]
        if not all(math.isfinite(v) for v in values):
            raise ValueError("SNR values must be finite")

    def at(self, t: float) -> float:
        if self.kind == "constant":
            return float(self.snr_db)
        if self.kind == "steps":
            i = int(np.searchsorted(np.asarray(self.step_times, dtype=float), t, side="right")) - 1
            return float(self.step_snrs[max(i, 0)])
        if self.kind == "sine":
            mid, amp = (self.high_db + self.low_db) / 2, (self.high_db - self.low_db) / 2
            return float(mid - amp * math.cos(2 * math.pi * t / self.period_s))
        if self.kind == "random_walk":
            return self._walk_at(t)
        if self.kind == "trajectory":
            d = self.distance_at(t)
            grid, shadow = self._shadow
            return float(self.snr_at_1m_db - 10 * self.path_loss_exponent * math.log10(d) + np.interp(d, grid, shadow))
        times, snrs = self._trace
        i = int(np.searchsorted(times, t, side="right")) - 1
        return float(snrs[max(i, 0)])

    def distance_at(self, t: float) -> float:
        """trajectory: out from distance_min_m to distance_max_m and back, at speed_mps."""
        span = self.distance_max_m - self.distance_min_m
        x = (self.speed_mps * max(t, 0.0)) % (2 * span)
        return self.distance_min_m + (x if x <= span else 2 * span - x)

    def _walk_at(self, t: float) -> float:
        """A seeded walk sampled once per second, so the value at t is reproducible."""
        if self._walk is None:
            self._rng = np.random.default_rng(self.seed)
            self._walk = [float(np.clip(self.snr_db, self.low_db, self.high_db))]
        n = max(0, int(t)) + 1
        while len(self._walk) < n:
            step = self._rng.normal(0.0, self.walk_step_db)
            self._walk.append(float(np.clip(self._walk[-1] + step, self.low_db, self.high_db)))
        return self._walk[n - 1]


def shadowing_map(d_min: float, d_max: float, sigma_db: float, d_c: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shadowing (dB) on a grid of distances: a stationary AR(1) with ρ = exp(-step/d_c) between neighbours."""
    step = min(d_c / 20, 0.25)
    grid = np.arange(d_min, d_max + step, step)
    w = np.random.default_rng(seed).standard_normal(len(grid))
    return grid, sigma_db * gauss_markov(w, math.exp(-step / d_c))


def load_trace(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A CSV SNR trace: rows of time_s,snr_db (a header row is allowed)."""
    rows = []
    try:
        with open(path, newline="") as f:
            for k, row in enumerate(csv.reader(f)):
                if not row or row[0].strip().startswith("#"):
                    continue
                try:
                    t, snr = float(row[0]), float(row[1])
                except (ValueError, IndexError):
                    if k == 0:
                        continue          # header
                    raise ValueError(f"{path}:{k + 1}: expected 'time_s,snr_db', got {row}") from None
                if not math.isfinite(t):
                    raise ValueError(f"{path}:{k + 1}: non-finite time")
                if implausible_snr(snr):
                    raise ValueError(f"{path}:{k + 1}: SNR {implausible_snr(snr)}")
                rows.append((t, snr))
    except OSError as exc:
        raise ValueError(f"cannot read SNR trace {path}: {exc}") from exc
    if not rows:
        raise ValueError(f"{path}: no SNR samples")
    times, snrs = np.array(rows).T
    if np.any(np.diff(times) < 0):
        raise ValueError(f"{path}: times must be increasing")
    return times, snrs
