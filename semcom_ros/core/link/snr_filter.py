"""The mean SNR from per-frame pilot estimates: an exponential average in linear power.

On a fading link each frame's estimate is the mean SNR times |h|², which at a
robot's speeds decorrelates within a frame or two (METHOD §7): a policy that
bets on the last estimate chases noise. Averaging the estimates over about a
second recovers the slow part (path loss and shadowing), which is what the
fading-averaged accuracy tables are indexed by. Averaging dB values instead
would be biased low by 2.5 dB on Rayleigh fading (E[10·log10|h|²]).
"""
from __future__ import annotations

import math


class SnrFilter:
    def __init__(self, time_constant_s: float = 0.0):
        if not time_constant_s >= 0:
            raise ValueError(f"time constant must be >= 0 s, got {time_constant_s}")
        self.tau = float(time_constant_s)
        self.power = None
        self.last_t = None

    def update(self, snr_db: float, t: float) -> float:
        """Take an estimate at time ``t`` (s); return the averaged SNR (dB). tau = 0: the estimate itself."""
        lin = 10.0 ** (snr_db / 10.0)
        if self.tau == 0 or self.power is None:
            self.power = lin
        else:
            weight = 1.0 - math.exp(-max(t - self.last_t, 0.0) / self.tau)
            self.power += weight * (lin - self.power)
        self.last_t = t
        return 10.0 * math.log10(max(self.power, 1e-30))
