"""Fleet policies: several robots, one budget of channel uses per second on the link they share.

A fleet policy is one class registered under its mode (``@register_fleet("shared_budget")``),
built by ``make_fleet_policy``; the fleet policy node knows nothing else. Every fleet policy:

- ``choose(robot, snr_db, now)``: the configuration (schedule and rate) that robot runs from now on;
- ``charge(robot, channel_uses, now)``: a frame that robot actually sent;
- ``state()``: per-robot and fleet-wide figures for ``/diagnostics``.

Frame rates are measured from the charges (``FrameRate``), so a robot that
sends more frames pays more per frame of its choice.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from ..fronts.front_file import Configuration
from .robot import Dwell, LyapunovPolicy
from ..registry import registry

FLEET_POLICIES: dict[str, type["FleetPolicy"]] = {}
register_fleet = registry(FLEET_POLICIES)     # @register_fleet("shared_budget")


@dataclass
class FrameRate:
    """A robot's frames per second from the times its frames were charged (moving average of intervals)."""

    default_hz: float = 10.0
    alpha: float = 0.1
    last: float | None = None
    interval: float | None = None
    frames: int = 0
    uses: float = 0.0
    first: float | None = None

    def see(self, now: float, channel_uses: float) -> None:
        if self.last is not None and now > self.last:
            dt = now - self.last
            self.interval = dt if self.interval is None else (1 - self.alpha) * self.interval + self.alpha * dt
        self.first = now if self.first is None else self.first
        self.last = now
        self.frames += 1
        self.uses += channel_uses

    @property
    def hz(self) -> float:
        return 1.0 / self.interval if self.interval else self.default_hz

    def uses_per_s(self) -> float:
        span = (self.last - self.first) if self.frames > 1 else 0.0
        return self.uses * (self.frames - 1) / self.frames / span if span > 0 else math.nan


class FleetPolicy:
    mode = ""

    def __init__(self, robots: Sequence[str], configs: Sequence[Configuration], budget: float,
                 weights: Sequence[float] | None = None, v: float = 20.0, min_dwell_s: float = 0.0,
                 default_rate_hz: float = 10.0):
        self.robots = list(robots)
        if not self.robots:
            raise ValueError("a fleet policy needs at least one robot")
        if budget is None or not budget > 0:
            raise ValueError("the fleet budget (channel uses per second) must be positive")
        weights = [1.0] * len(self.robots) if not weights else [float(w) for w in weights]
        if len(weights) != len(self.robots):
            raise ValueError(f"{len(weights)} weights for {len(self.robots)} robots")
        if any(not w > 0 for w in weights):
            raise ValueError(f"weights must be positive, got {weights}")
        mean_w = sum(weights) / len(weights)
        self.weights = {r: w / mean_w for r, w in zip(self.robots, weights)}     # mean 1: V keeps its scale
        self.configs, self.budget, self.v = list(configs), float(budget), float(v)
        self.scale = max(c.channel_uses for c in self.configs) or 1.0
        self.dwell = {r: Dwell(min_dwell_s) for r in self.robots}
        self.rates = {r: FrameRate(default_rate_hz) for r in self.robots}

    def robot(self, name: str) -> str:
        if name not in self.dwell:
            raise KeyError(f"unknown robot {name!r}; this fleet has {self.robots}")
        return name

    def pick(self, robot: str, snr_db: float) -> str:
        raise NotImplementedError

    def choose(self, robot: str, snr_db: float, now: float) -> str:
        return self.dwell[self.robot(robot)].propose(self.pick(robot, snr_db), now)

    def charge(self, robot: str, channel_uses: float, now: float) -> None:
        self.rates[self.robot(robot)].see(now, float(channel_uses))

    def state(self) -> dict:
        out = {"budget_per_s": self.budget}
        total = 0.0
        for r in self.robots:
            rate = self.rates[r]
            ups = rate.uses_per_s()
            total += 0.0 if math.isnan(ups) else ups
            out.update({f"{r}/frame_rate_hz": round(rate.hz, 2),
                        f"{r}/channel_uses_per_s": round(ups, 1), f"{r}/frames_charged": rate.frames,
                        f"{r}/weight": round(self.weights[r], 3)})
        out["channel_uses_per_s"] = round(total, 1)
        return out


@register_fleet("shared_budget")
class SharedBudget(FleetPolicy):
    """Drift-plus-penalty over the fleet with one virtual queue for the shared budget.

    Robot r at SNR s picks the configuration minimising
    -V·w_r·A(c, s) + Z·(f_r / f̄)·rho(c): weighted accuracy against what its
    choice costs the shared link per second (f_r its frame rate, f̄ the fleet's
    mean). Every frame sent charges Z <- max(0, Z + (rho_sent - B·dt) / rho_max),
    dt the time since the fleet's previous frame, so the fleet's channel uses
    per second stay at B in the long run however the robots' links differ.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queue = 0.0
        self.last_charge: float | None = None

    def pick(self, robot: str, snr_db: float) -> str:
        rates = [self.rates[r].hz for r in self.robots]
        share = self.rates[robot].hz / (sum(rates) / len(rates))
        w = self.weights[robot]

        def score(c):
            return -self.v * w * c.accuracy_at(snr_db) + self.queue * share * c.channel_uses / self.scale
        return min(self.configs, key=score).name

    def charge(self, robot: str, channel_uses: float, now: float) -> None:
        super().charge(robot, channel_uses, now)
        dt = 0.0 if self.last_charge is None else max(0.0, now - self.last_charge)
        self.last_charge = now
        self.queue = max(0.0, self.queue + (float(channel_uses) - self.budget * dt) / self.scale)

    def state(self) -> dict:
        return {"queue": round(self.queue, 4), **super().state()}


@register_fleet("equal_share")
class EqualShare(FleetPolicy):
    """The baseline: each robot gets budget/n per second and runs its own ``lyapunov`` policy on it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        share = self.budget / len(self.robots)
        self.own = {r: LyapunovPolicy(self.configs, share / self.rates[r].hz, self.v) for r in self.robots}

    def pick(self, robot: str, snr_db: float) -> str:
        return self.own[robot].choose(snr_db, 0.0)

    def charge(self, robot: str, channel_uses: float, now: float) -> None:
        super().charge(robot, channel_uses, now)
        own = self.own[robot]
        own.budget = self.budget / len(self.robots) / self.rates[robot].hz   # per frame, at its measured rate
        own.charge(channel_uses)

    def state(self) -> dict:
        out = super().state()
        for r in self.robots:
            out[f"{r}/queue"] = round(self.own[r].queue, 4)
        return out


FLEET_MODES = tuple(FLEET_POLICIES)


def make_fleet_policy(mode: str, robots: Sequence[str], configs: Sequence[Configuration], **params) -> FleetPolicy:
    """Build a registered fleet policy; ``params``: budget, weights, v, min_dwell_s, default_rate_hz."""
    if mode not in FLEET_POLICIES:
        raise ValueError(f"unknown fleet policy mode {mode!r}; use one of {FLEET_MODES}")
    if not configs:
        raise ValueError("no configurations to choose from")
    return FLEET_POLICIES[mode](robots, configs, **params)
