"""The channel of ``channels.propagate`` (y = h·x + n, one h per frame) and its receiver, in numpy.

The channel emulator node needs nothing else from torch, and importing torch
costs a process about 500 MB; ``channels.py`` stays the torch version that
JSCC training differentiates through. Both take gains and erasures from the
same registered model (``channel_models``). ``receive`` is the server's pilot
estimate and equalisation for one frame: on a few hundred symbols numpy takes
a fifth of the time torch's per-operation overhead does.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .channel_models import CHANNELS, ChannelModel, make_channel

__all__ = ["CHANNELS", "Propagated", "propagate", "receive"]


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


@functools.lru_cache(maxsize=64)
def pilot_symbols(n: int, power: float = 1.0) -> np.ndarray:
    """The known pilots of ``channels.pilot_symbols`` (QPSK points at the data power); read-only, made once."""
    pilots = (math.sqrt(power) * np.exp(1j * (np.arange(n) * (math.pi / 2) + math.pi / 4))).astype(np.complex64)
    pilots.flags.writeable = False
    return pilots


def receive(y: np.ndarray, n_pilots: int, power: float = 1.0) -> tuple[np.ndarray, float]:
    """One frame's data symbols equalised with the least-squares gain of its leading pilots, and the SNR estimate.

    As ``channels.estimate_from_pilots`` then ``channels.equalize`` for one frame (same guards).
    """
    pilots = pilot_symbols(n_pilots, power)
    y_pilot = y[:n_pilots]
    h = complex((y_pilot / pilots).mean())
    resid = float((np.abs(y_pilot - h * pilots) ** 2).sum()) / (n_pilots - 1)
    snr_db = 10 * math.log10(max(abs(h) ** 2 * power, 1e-12) / max(resid, 1e-12))
    safe = h if abs(h) >= 1e-6 else 1e-6
    return (y[n_pilots:] / np.complex64(safe)).astype(np.complex64), snr_db
