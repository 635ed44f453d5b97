"""Runtime policies: which Pareto configuration to run at the current link SNR (METHOD §5).

All policies share one rule against flapping: after a switch, the choice is
held for at least ``min_dwell_s`` seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from .front_file import Configuration, Front

POLICY_MODES = ("snr_table", "max_accuracy_under_cap", "min_cost_above_floor", "lyapunov")
COSTS = ("gmacs", "channel_uses")


@dataclass
class Dwell:
    min_dwell_s: float = 0.0
    current: str | None = None
    since: float = -math.inf

    def propose(self, name: str, now: float) -> str:
        if self.current is None or (name != self.current and now - self.since >= self.min_dwell_s):
            if name != self.current:
                self.current, self.since = name, now
        return self.current


class SnrTablePolicy:
    """Fixed SNR thresholds -> configuration, with a hysteresis band around each threshold.

    ``table`` holds (min_snr_db, configuration) pairs; the highest threshold
    the SNR clears wins. Moving up needs ``threshold + hysteresis``, moving
    down needs falling below ``threshold - hysteresis``.
    """

    def __init__(self, table: Sequence[tuple[float, str]], hysteresis_db: float = 1.0, min_dwell_s: float = 0.0):
        if not table:
            raise ValueError("the SNR table needs at least one entry")
        self.table = sorted((float(t), str(n)) for t, n in table)
        self.hysteresis_db = float(hysteresis_db)
        self.dwell = Dwell(min_dwell_s)
        self.level: int | None = None

    def _level(self, snr: float, margin: float) -> int:
        levels = [i for i, (t, _) in enumerate(self.table) if snr >= t + margin]
        return levels[-1] if levels else 0

    def choose(self, snr_db: float, now: float) -> str:
        if self.level is None:
            target = self._level(snr_db, 0.0)
        else:
            up, down = self._level(snr_db, self.hysteresis_db), self._level(snr_db, -self.hysteresis_db)
            target = up if up > self.level else (down if down < self.level else self.level)
        name = self.dwell.propose(self.table[target][1], now)
        if name == self.table[target][1]:      # the switch was taken (not held back by dwell)
            self.level = target
        return name


class ConstraintPolicy:
    """Most accurate under a cost cap, or cheapest above an accuracy floor, at the current SNR.

    Accuracy is the front's offline table at the nearest SNR. When nothing
    meets the constraint it falls back to the closest thing: the cheapest
    configuration (cap) or the most accurate one (floor).
    """

    def __init__(self, configs: Sequence[Configuration], mode: str, cap: float | None = None,
                 floor: float | None = None, cost: str = "gmacs", min_dwell_s: float = 0.0):
        if mode not in ("max_accuracy_under_cap", "min_cost_above_floor"):
            raise ValueError(f"unknown constraint mode {mode!r}")
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; use one of {COSTS}")
        self.configs, self.mode, self.cap, self.floor, self.cost = list(configs), mode, cap, floor, cost
        self.dwell = Dwell(min_dwell_s)

    def choose(self, snr_db: float, now: float) -> str:
        cost = {c.name: getattr(c, self.cost) for c in self.configs}
        acc = {c.name: c.accuracy_at(snr_db) for c in self.configs}
        names = [c.name for c in self.configs]
        if self.mode == "max_accuracy_under_cap":
            ok = [n for n in names if self.cap is None or cost[n] <= self.cap]
            pick = max(ok, key=lambda n: (acc[n], -cost[n])) if ok else min(names, key=lambda n: cost[n])
        else:
            ok = [n for n in names if self.floor is None or acc[n] >= self.floor]
            pick = min(ok, key=lambda n: (cost[n], -acc[n])) if ok else max(names, key=lambda n: acc[n])
        return self.dwell.propose(pick, now)


@dataclass
class LyapunovPolicy:
    """Drift-plus-penalty with a long-term budget on channel uses (or MACs) per frame.

    Z(t+1) = max(0, Z(t) + rho(t) - rho_max); each frame picks the
    configuration minimising -V·A(config, SNR) + Z(t)·rho(config).
    """

    configs: Sequence[Configuration]
    budget: float
    v: float = 100.0
    cost: str = "channel_uses"
    min_dwell_s: float = 0.0
    queue: float = 0.0
    dwell: Dwell = field(default_factory=Dwell)

    def __post_init__(self):
        if self.cost not in COSTS:
            raise ValueError(f"unknown cost {self.cost!r}; use one of {COSTS}")
        self.dwell.min_dwell_s = self.min_dwell_s

    def choose(self, snr_db: float, now: float) -> str:
        scale = max(getattr(c, self.cost) for c in self.configs) or 1.0   # rho in units of the largest cost

        def score(c):
            return -self.v * c.accuracy_at(snr_db) + self.queue * getattr(c, self.cost) / scale
        name = self.dwell.propose(min(self.configs, key=score).name, now)
        used = next(getattr(c, self.cost) for c in self.configs if c.name == name)
        self.queue = max(0.0, self.queue + (used - self.budget) / scale)
        return name


def make_policy(front: Front, mode: str, *, table: Sequence[tuple[float, str]] = (), hysteresis_db: float = 1.0,
                min_dwell_s: float = 0.0, gmacs_cap: float | None = None, accuracy_floor: float | None = None,
                budget: float | None = None, v: float = 100.0, cost: str = "gmacs"):
    """Build a policy from a front; configuration names may be operating points (S1, S2, S3)."""
    if mode not in POLICY_MODES:
        raise ValueError(f"unknown policy mode {mode!r}; use one of {POLICY_MODES}")
    if mode == "snr_table":
        return SnrTablePolicy([(t, front.get(n).name) for t, n in table], hysteresis_db, min_dwell_s)
    if mode == "lyapunov":
        if budget is None or budget <= 0:
            raise ValueError("the lyapunov policy needs a positive budget")
        return LyapunovPolicy(front.configurations, budget, v, "channel_uses", min_dwell_s)
    return ConstraintPolicy(front.configurations, mode, gmacs_cap, accuracy_floor, cost, min_dwell_s)
