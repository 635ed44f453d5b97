"""Newest-frame-wins per robot, for a server that takes several robots' frames at once.

A busy server must not queue a robot's stale frames (latency would grow
without bound): a robot's newer frame replaces its waiting one, and the
replaced frame is counted against that robot. Robots are served in the order
their waiting frame first arrived, so a chatty robot cannot starve a quiet one.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable, Hashable


class NewestFrames:
    """At most one waiting frame per robot."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.waiting: dict[Hashable, tuple[Any, float]] = {}   # robot -> (frame, since); order = first arrival
        self.skipped: Counter = Counter()

    def put(self, robot: Hashable, frame: Any) -> bool:
        """Hold ``frame`` as ``robot``'s newest; True when it replaced one never served (counted as skipped)."""
        replaced = robot in self.waiting
        if replaced:
            self.skipped[robot] += 1
        since = self.waiting[robot][1] if replaced else self.clock()
        self.waiting[robot] = (frame, since)      # keeps the robot's place in line and how long it has waited
        return replaced

    def take(self, n: int) -> list[tuple[Hashable, Any]]:
        """Up to ``n`` waiting frames, longest-waiting robot first."""
        robots = list(self.waiting)[:max(0, int(n))]
        return [(r, self.waiting.pop(r)[0]) for r in robots]

    def longest_wait(self) -> float:
        """Seconds the longest-waiting robot has been waiting (0 when none is)."""
        return self.clock() - next(iter(self.waiting.values()))[1] if self.waiting else 0.0

    def __len__(self) -> int:
        return len(self.waiting)
