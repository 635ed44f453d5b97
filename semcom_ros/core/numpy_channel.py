"""The channel of ``channels.propagate`` (y = h·x + n, one h per frame) in numpy.

The channel emulator node needs nothing else from torch, and importing torch
costs a process about 500 MB; ``channels.py`` stays the torch version that
JSCC training differentiates through. Both take gains and erasures from the
same registered model (``channel_models``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .channel_models import CHANNELS, ChannelModel, make_channel

__all__ = ["CHANNELS", "Propagated", "propagate"]


@dataclass
class Propagated:
    y: np.ndarray        # received symbols (complex64), erased ones 0
    h: complex           # the frame's gain
    erased: int          # data symbols erased


def propagate(tx: np.ndarray, model: ChannelModel | str, snr_db: float, rng: np.random.Generator,
              power: float = 1.0, dt: float | None = None, pilots: int = 0) -> Propagated:
    """One frame through ``model`` at mean SNR ``snr_db``; the first ``pilots`` symbols are never erased.

    ``dt``: seconds since this link's previous frame (models with memory; None: the model's default).
    """
    if isinstance(model, str):
        model = make_channel(model)
    if not math.isfinite(snr_db):
        raise ValueError("SNR must be finite")
    h = complex(model.gains(1, rng, dt)[0])
    std = math.sqrt(power / 10.0 ** (snr_db / 10.0) / 2.0)     # per real dimension
    noise = rng.normal(0.0, std, (2,) + tx.shape)
    y = (h * tx + (noise[0] + 1j * noise[1])).astype(np.complex64)
    lost = model.erasures(1, max(tx.size - pilots, 0), rng)
    erased = 0
    if lost is not None:
        y[pilots:][lost[0]] = 0
        erased = int(lost.sum())
    return Propagated(y, h, erased)
