"""Where a frame's time goes at one node: in transport, waiting for the executor, in this node's work.

Every message on the pipeline carries the camera frame's stamp. At each node
three instants are compared with it: when the middleware received the
message (``MessageInfo.received_timestamp``), when the callback started, and
when the node published its output. Per node, /diagnostics then shows the
median of ``transport_ms`` (publisher's source timestamp to reception),
``queued_ms`` (reception to the callback) and ``work_ms`` (callback to
publish), and ``stamp_to_out_ms`` (the frame's age when it leaves). All
processes of one machine share the clock these use; across machines the
ages include the clocks' offset.
"""
from __future__ import annotations

import time
from collections import deque
from statistics import median

WINDOW = 300


def _ns(stamp) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


class StageTimes:
    """Per-frame instants of one node, the last ``WINDOW`` frames kept."""

    KEYS = ("transport_ms", "queued_ms", "work_ms", "stamp_to_out_ms")

    def __init__(self, window: int = WINDOW):
        self.samples = {k: deque(maxlen=window) for k in self.KEYS}
        self._start = self._stamp = None

    def arrived(self, header, info) -> None:
        """At the top of a callback: ``info`` is the MessageInfo rclpy passes to two-argument callbacks."""
        now = time.time_ns()
        self._start, self._stamp = now, _ns(header.stamp)
        try:
            sent, received = int(info["source_timestamp"]), int(info["received_timestamp"])
        except (KeyError, TypeError):
            return
        if sent > 0 and received >= sent:
            self.samples["transport_ms"].append((received - sent) * 1e-6)
            self.samples["queued_ms"].append(max(0, now - received) * 1e-6)

    def published(self) -> None:
        """Right after the node published what it made of the frame."""
        if self._start is None:
            return
        now = time.time_ns()
        self.samples["work_ms"].append((now - self._start) * 1e-6)
        if self._stamp:
            self.samples["stamp_to_out_ms"].append((now - self._stamp) * 1e-6)
        self._start = None

    def values(self) -> dict[str, float | str]:
        return {f"{k}_p50": round(median(v), 3) if v else "" for k, v in self.samples.items()}
