"""Wireless channel models for complex symbol frames (METHOD §1, eqs. 4-5).

    y = h·z + n,   n ~ CN(0, sigma²),   SNR_dB = 10·log10(P / sigma²)

``h`` and the erased symbols come from a registered model (``channel_models``:
AWGN, i.i.d. and time-correlated Rayleigh, Rician, Gilbert-Elliott bursts), one
``h`` per frame, drawn in numpy and converted, so the channel node's numpy path
and this one share one definition. The receiver equalises with the true ``h`` (known CSI) or with a
least-squares estimate from pilot symbols sent in the same frame; the pilots
also give an SNR estimate, which the runtime policy listens to.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .channel_models import CHANNELS, ChannelModel, LinkConditions, make_channel  # noqa: F401 (CHANNELS: re-exported)
CSI_MODES = ("known", "pilot")


def power_normalize(z: torch.Tensor, power: float = 1.0) -> torch.Tensor:
    """Scale each frame (last dim) so that mean |z_i|² equals ``power`` exactly."""
    mean_power = (z.abs() ** 2).mean(dim=-1, keepdim=True)
    return z * torch.sqrt(power / mean_power.clamp_min(1e-12))


def noise_variance(snr_db: torch.Tensor | float, power: float = 1.0) -> torch.Tensor:
    return power / torch.pow(10.0, torch.as_tensor(snr_db, dtype=torch.float32) / 10.0)


def complex_normal(shape, std: torch.Tensor | float, generator: torch.Generator | None = None) -> torch.Tensor:
    """CN(0, std²) samples: real and imaginary parts each carry half the variance."""
    re = torch.randn(shape, generator=generator)
    im = torch.randn(shape, generator=generator)
    return torch.complex(re, im) * (torch.as_tensor(std) / math.sqrt(2.0))


def pilot_symbols(n: int, power: float = 1.0) -> torch.Tensor:
    """Known unit-modulus pilots (QPSK points), at the data power."""
    phases = torch.arange(n) * (math.pi / 2) + math.pi / 4
    return torch.polar(torch.full((n,), math.sqrt(power)), phases.float())


@dataclass
class Received:
    symbols: torch.Tensor        # (B, k) equalised data symbols
    h: torch.Tensor              # (B,) true channel gain
    h_used: torch.Tensor         # (B,) gain the receiver equalised with
    snr_db: torch.Tensor         # (B,) the link SNR that was applied
    snr_est_db: torch.Tensor     # (B,) receiver's pilot estimate of the effective SNR |h|²P/sigma²
    effective_snr_db: torch.Tensor  # (B,) the true effective SNR |h|²P/sigma²
    csi: str = "known"
    erased: torch.Tensor | None = None  # (B, k) True where a data symbol was lost (set to 0)

    @property
    def decoder_snr_db(self) -> torch.Tensor:
        """The SNR the receiver believes: the truth with known CSI, else the pilot estimate."""
        return self.effective_snr_db if self.csi == "known" else self.snr_est_db


@dataclass
class Channel:
    kind: str = "awgn"
    csi: str = "known"
    n_pilots: int = 16
    power: float = 1.0
    conditions: LinkConditions = field(default_factory=LinkConditions)

    def __post_init__(self):
        self.model = make_channel(self.kind, self.conditions)
        if self.csi not in CSI_MODES:
            raise ValueError(f"unknown CSI mode {self.csi!r}; use one of {CSI_MODES}")
        if self.n_pilots < 2:
            raise ValueError("at least 2 pilots are needed to estimate gain and noise")

    def transmit(self, z: torch.Tensor, snr_db, generator: torch.Generator | None = None,
                 h: torch.Tensor | None = None) -> Received:
        """Send power-normalised frames ``z`` (B, k) with pilots through the channel and equalise.

        ``h`` (B,) gives the fading gains instead of drawing them: schemes compared
        on the same frames then see the same fades (common random numbers).
        """
        y, h, snr_db = propagate(with_pilots(z, self.n_pilots, self.power), self.model, snr_db, generator, self.power,
                                 h)
        h_est, snr_est = estimate_from_pilots(y, self.n_pilots, self.power)
        h_used = h if self.csi == "known" else h_est
        eff = snr_db + 10 * torch.log10((h.abs() ** 2).clamp_min(1e-12))
        data = equalize(y[:, self.n_pilots:], h_used)
        lost = self.model.erasures(z.shape[0], z.shape[1], numpy_rng(generator))
        if lost is not None:
            lost = torch.from_numpy(lost)
            data = data.masked_fill(lost, 0)
        return Received(data, h, h_used, snr_db, snr_est, eff, self.csi, lost)


def with_pilots(z: torch.Tensor, n_pilots: int, power: float = 1.0) -> torch.Tensor:
    """Transmitter side: known pilots first, then the data symbols."""
    return torch.cat([pilot_symbols(n_pilots, power).expand(z.shape[0], -1), z.to(torch.complex64)], dim=1)


def propagate(tx: torch.Tensor, kind: str | ChannelModel, snr_db, generator: torch.Generator | None = None,
              power: float = 1.0, h: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The channel itself: y = h·x + n, one h per frame (drawn, or ``h`` given). Returns y, h and the SNR."""
    model = make_channel(kind) if isinstance(kind, str) else kind
    b = tx.shape[0]
    snr_db = torch.as_tensor(snr_db, dtype=torch.float32).expand(b).clone()
    if not torch.isfinite(snr_db).all():
        raise ValueError("SNR must be finite")
    if h is None:
        h = fading_gains(model, b, generator)
    elif h.shape != (b,):
        raise ValueError(f"h must hold one gain per frame ({b}), got shape {tuple(h.shape)}")
    h = h.to(torch.complex64)
    noise = complex_normal(tx.shape, noise_variance(snr_db, power).sqrt()[:, None], generator)
    return h[:, None] * tx + noise, h, snr_db


def fading_gains(kind: str | ChannelModel, frames: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One gain per frame from the model (consecutive frames, for models with memory)."""
    model = make_channel(kind) if isinstance(kind, str) else kind
    return torch.from_numpy(model.gains(frames, numpy_rng(generator))).to(torch.complex64)


def numpy_rng(generator: torch.Generator | None) -> np.random.Generator:
    """A numpy generator seeded from ``generator``: torch-seeded runs stay reproducible."""
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))


def estimate_from_pilots(y: torch.Tensor, n_pilots: int, power: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Receiver side: least-squares gain and effective-SNR estimates from the leading pilots."""
    pilots = pilot_symbols(n_pilots, power)
    y_pilot = y[:, :n_pilots]
    h_est = (y_pilot / pilots).mean(dim=1)
    resid = (y_pilot - h_est[:, None] * pilots).abs().pow(2).sum(dim=1) / (n_pilots - 1)
    snr_est = 10 * torch.log10((h_est.abs() ** 2 * power).clamp_min(1e-12) / resid.clamp_min(1e-12))
    return h_est, snr_est


def equalize(y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Zero-forcing: divide each frame by its gain (guarded against deep fades)."""
    safe = torch.where(h.abs() < 1e-6, torch.full_like(h, 1e-6), h)
    return y / safe[:, None]
