"""Runtime policies: which configuration (merge schedule and JSCC rate) to run at the link SNR.

METHOD §5 and AST's Algorithm 2. A policy is one class registered under its mode
name (``@register("lyapunov")``) with ``from_params`` building it from a front and
the policy parameters; ``make_policy`` and the policy manager know nothing else.
Every policy:

- ``choose(snr_db, now)``: the configuration to run from now on;
- ``charge(channel_uses)``: a frame the camera actually sent (budgeted policies
  count it; the others ignore it);
- ``state()``: figures worth putting on ``/diagnostics``.

All share one rule against flapping: after a switch, the choice is held for at
least ``min_dwell_s`` seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from ..fronts.front_file import Configuration, Front
from ..registry import registry

COSTS = ("gmacs", "channel_uses")


POLICIES: dict[str, type["Policy"]] = {}
register = registry(POLICIES)       # @register("lyapunov"): make a policy available under that mode


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


class Policy:
    mode = ""

    def choose(self, snr_db: float, now: float) -> str:
        raise NotImplementedError

    def charge(self, channel_uses: float) -> None:
        """A frame sent with ``channel_uses`` data symbols; only budgeted policies care."""

    def state(self) -> dict:
        return {}


@register("snr_table")
class SnrTablePolicy(Policy):
    """Fixed SNR thresholds -> configuration, with a hysteresis band around each threshold.

    ``table`` holds (min_snr_db, configuration) pairs; the highest threshold
    the SNR clears wins. Moving up needs ``threshold + hysteresis``, moving
    down needs falling below ``threshold - hysteresis``. A configuration
    names its rate (p06@m2) or is an operating point (S1, S2, S3).
    """

    def __init__(self, table: Sequence[tuple[float, str]], hysteresis_db: float = 1.0, min_dwell_s: float = 0.0):
        if not table:
            raise ValueError("the SNR table needs at least one entry")
        self.table = sorted((float(t), str(n)) for t, n in table)
        self.hysteresis_db = float(hysteresis_db)
        self.dwell = Dwell(min_dwell_s)
        self.level: int | None = None

    @classmethod
    def from_params(cls, front: Front, configs: list[Configuration], p: dict):
        return cls([(t, front.get(n).name) for t, n in p.get("table", ())], p.get("hysteresis_db", 1.0),
                   p.get("min_dwell_s", 0.0))

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


class ConstraintPolicy(Policy):
    """Most accurate under a cost cap, or cheapest above an accuracy floor, at the current SNR.

    Accuracy is the front's offline table at the current SNR (``accuracy_at``); ``channel_uses_cap``
    (if set, not 0) applies in both modes on top. When nothing meets the constraints it
    falls back to the closest thing: the cheapest configuration (cap) or the most
    accurate one (floor).
    """

    def __init__(self, configs: Sequence[Configuration], mode: str, cap: float | None = None,
                 floor: float | None = None, cost: str = "gmacs", min_dwell_s: float = 0.0,
                 channel_uses_cap: float | None = None):
        if mode not in ("max_accuracy_under_cap", "min_cost_above_floor"):
            raise ValueError(f"unknown constraint mode {mode!r}")
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; use one of {COSTS}")
        self.configs, self.mode, self.cap, self.floor, self.cost = list(configs), mode, cap, floor, cost
        self.channel_uses_cap = channel_uses_cap or None
        self.dwell = Dwell(min_dwell_s)

    @classmethod
    def from_params(cls, front: Front, configs: list[Configuration], p: dict):
        return cls(configs, cap=p.get("gmacs_cap"), floor=p.get("accuracy_floor"), cost=p.get("cost", "gmacs"),
                   min_dwell_s=p.get("min_dwell_s", 0.0), channel_uses_cap=p.get("channel_uses_cap"))

    def choose(self, snr_db: float, now: float) -> str:
        cost = {c.name: getattr(c, self.cost) for c in self.configs}
        acc = {c.name: c.accuracy_at(snr_db) for c in self.configs}
        cap = self.channel_uses_cap
        fits = [c.name for c in self.configs if cap is None or c.channel_uses <= cap]
        names = fits or [min(self.configs, key=lambda c: c.channel_uses).name]
        if self.mode == "max_accuracy_under_cap":
            ok = [n for n in names if self.cap is None or cost[n] <= self.cap]
            pick = max(ok, key=lambda n: (acc[n], -cost[n])) if ok else min(names, key=lambda n: cost[n])
        else:
            ok = [n for n in names if self.floor is None or acc[n] >= self.floor]
            pick = min(ok, key=lambda n: (cost[n], -acc[n])) if ok else max(names, key=lambda n: acc[n])
        return self.dwell.propose(pick, now)


@register("max_accuracy_under_cap")
class MaxAccuracyUnderCap(ConstraintPolicy):
    def __init__(self, configs, **kwargs):
        super().__init__(configs, "max_accuracy_under_cap", **kwargs)


@register("min_cost_above_floor")
class MinCostAboveFloor(ConstraintPolicy):
    def __init__(self, configs, **kwargs):
        super().__init__(configs, "min_cost_above_floor", **kwargs)


@register("lyapunov")
class LyapunovPolicy(Policy):
    """Drift-plus-penalty with a long-term budget on channel uses per frame (AST, Algorithm 2).

    Each decision picks the configuration (schedule, rate) minimising
    -V·A(config, SNR) + Z·rho(config); every frame actually sent charges the
    virtual queue, Z <- max(0, Z + rho_sent - budget), so the running mean of
    channel uses per frame stays at the budget whatever the frame and SNR rates.
    rho and Z are in units of the largest configuration's channel uses.

    The queue alone bounds the overshoot only as Z(T)/T: after a cheap start or a
    run of good SNRs the mean stays above the budget for minutes. So a choice may
    also spend at most what the budget has paid in so far plus ``slack_frames``
    frames' worth (configurations that cost more are left out): after any T
    frames the mean is at most budget·(1 + slack_frames/T), whatever V and the SNR
    do, while saving up to spend later stays free.
    """

    def __init__(self, configs: Sequence[Configuration], budget: float, v: float = 100.0, min_dwell_s: float = 0.0,
                 slack_frames: float = math.inf):
        if budget is None or budget <= 0:
            raise ValueError("the lyapunov policy needs a positive budget")
        self.configs, self.budget, self.v = list(configs), float(budget), float(v)
        self.slack_frames = float(slack_frames)
        self.scale = max(c.channel_uses for c in self.configs) or 1.0
        self.dwell = Dwell(min_dwell_s)
        self.queue = 0.0
        self.frames = 0
        self.uses = 0.0

    @classmethod
    def from_params(cls, front: Front, configs: list[Configuration], p: dict):
        return cls(configs, p.get("budget"), p.get("v", 100.0), p.get("min_dwell_s", 0.0),
                   p.get("budget_slack_frames", math.inf))

    def choose(self, snr_db: float, now: float) -> str:
        def score(c):
            return -self.v * c.accuracy_at(snr_db) + self.queue * c.channel_uses / self.scale
        allowance = self.budget * (self.frames + 1 + self.slack_frames) - self.uses
        affordable = [c for c in self.configs if c.channel_uses <= allowance]
        choice = min(affordable, key=score) if affordable else min(self.configs, key=lambda c: c.channel_uses)
        return self.dwell.propose(choice.name, now)

    def charge(self, channel_uses: float) -> None:
        self.queue = max(0.0, self.queue + (float(channel_uses) - self.budget) / self.scale)
        self.frames += 1
        self.uses += float(channel_uses)

    def state(self) -> dict:
        mean = self.uses / self.frames if self.frames else math.nan
        return {"queue": round(self.queue, 4), "mean_channel_uses": round(mean, 2), "budget": self.budget,
                "frames_charged": self.frames}


POLICY_MODES = tuple(POLICIES)


def make_policy(front: Front, mode: str, *, rates: Sequence[int] = (), **params) -> Policy:
    """Build a registered policy over the front's configurations at ``rates`` (empty: every rate).

    Configuration names may be operating points (S1, S2, S3). ``params`` are the
    policy manager's: table, hysteresis_db, min_dwell_s, gmacs_cap, accuracy_floor,
    channel_uses_cap, budget, v, budget_slack_frames, cost.
    """
    if mode not in POLICIES:
        raise ValueError(f"unknown policy mode {mode!r}; use one of {tuple(POLICIES)}")
    return POLICIES[mode].from_params(front, configurations_at(front, rates), params)


def configurations_at(front: Front, rates: Sequence[int] = ()) -> list[Configuration]:
    """The front's configurations at ``rates`` (empty, or 0 among them: every rate); unknown rates refused."""
    wanted = {int(r) for r in rates if r}
    unknown = wanted - set(front.rates)
    if unknown:
        raise ValueError(f"rates {sorted(unknown)} are not in the front (it has {front.rates})")
    return [c for c in front.configurations if not wanted or c.rate in wanted]
