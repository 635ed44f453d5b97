"""The channel of ``channels.propagate`` (y = h·x + n, one h per frame) in numpy.

The channel emulator node needs nothing else from torch, and importing torch
costs a process about 500 MB; ``channels.py`` stays the torch version that
JSCC training differentiates through. ``test_channels.py`` checks that both
draw from the same distributions.
"""
from __future__ import annotations

import math

import numpy as np

CHANNELS = ("awgn", "rayleigh")


def propagate(tx: np.ndarray, kind: str, snr_db: float, rng: np.random.Generator,
              power: float = 1.0) -> tuple[np.ndarray, complex]:
    """One frame of complex symbols through the channel at ``snr_db``; returns y and h."""
    if kind not in CHANNELS:
        raise ValueError(f"unknown channel {kind!r}; use one of {CHANNELS}")
    if not math.isfinite(snr_db):
        raise ValueError("SNR must be finite")
    h = 1.0 + 0j if kind == "awgn" else complex(rng.normal(0.0, math.sqrt(0.5), 2) @ [1, 1j])
    std = math.sqrt(power / 10.0 ** (snr_db / 10.0) / 2.0)     # per real dimension
    noise = rng.normal(0.0, std, (2,) + tx.shape)
    return (h * tx + (noise[0] + 1j * noise[1])).astype(np.complex64), h
