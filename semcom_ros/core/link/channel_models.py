"""The links a moving robot sees (METHOD §7), one class and one registration each.

A model says what happens to a frame besides the noise: its complex gain ``h``
(one per frame: a frame of a few hundred symbols lasts well under a millisecond
at a megasymbol per second, far below the coherence time 0.423/f_D even at
10 m/s on 5.9 GHz) and which of its data symbols are erased. Models draw in
numpy from one definition; the channel node uses them directly and the torch
channel (JSCC training, evaluation, benchmarks) converts the draws, so the two
cannot drift apart. Models with memory keep their state between calls: call
them once per frame, in time order, with the time since the last frame.

Erasures: the receiver knows which blocks were lost (a per-block check, like
the token sizes that travel beside the symbols), pilots are never erased, and
an erased symbol reaches the decoder as 0, the mean of a power-normalised
symbol, so the JSCC decoder sees "no information" rather than a wrong value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from ..registry import registry

SPEED_OF_LIGHT = 299_792_458.0
CHANNEL_MODELS: dict[str, type["ChannelModel"]] = {}
register_channel = registry(CHANNEL_MODELS, "name")   # @register_channel("rician"): a model the node offers


@dataclass
class LinkConditions:
    """What a robotics user knows about the link; each model reads the fields it needs."""

    speed_mps: float = 1.0          # robot speed
    carrier_ghz: float = 2.4        # carrier frequency
    doppler_hz: float = 0.0         # > 0: use this maximum Doppler instead of speed x carrier
    frame_interval_s: float = 0.1   # time between frames when the caller does not say
    k_factor: float = 3.0           # Rician: line-of-sight power / scattered power
    burst_loss: float = 0.05        # Gilbert-Elliott: long-run fraction of data blocks erased
    burst_length: float = 4.0       # Gilbert-Elliott: mean burst length, in blocks
    block_symbols: int = 16         # Gilbert-Elliott: symbols per block

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{f.name} must be a finite number >= 0, got {v!r}")
        if self.frame_interval_s <= 0:
            raise ValueError("frame_interval_s must be > 0")
        if not 0 <= self.burst_loss < 1:
            raise ValueError(f"burst_loss must be in [0, 1), got {self.burst_loss}")
        if self.burst_length < 1:
            raise ValueError(f"burst_length is a mean number of blocks, >= 1; got {self.burst_length}")
        if int(self.block_symbols) != self.block_symbols or self.block_symbols < 1:
            raise ValueError(f"block_symbols must be a positive integer, got {self.block_symbols}")

    @property
    def max_doppler_hz(self) -> float:
        """f_D = v·f_c / c, unless given directly."""
        return self.doppler_hz if self.doppler_hz > 0 else self.speed_mps * self.carrier_ghz * 1e9 / SPEED_OF_LIGHT


def bessel_j0(x) -> np.ndarray:
    """J0(x) = (1/π)∫₀^π cos(x·sin θ) dθ; the integrand is π-periodic, so a plain mean converges fast."""
    theta = np.arange(256) * (np.pi / 256)
    return np.cos(np.multiply.outer(np.asarray(x, float), np.sin(theta))).mean(axis=-1)


def gauss_markov(w: np.ndarray, rho: float, previous=None) -> np.ndarray:
    """x_t = ρ·x_{t-1} + sqrt(1-ρ²)·w_t: unit-variance white noise ``w`` made correlated, stationary throughout.

    With no ``previous`` value the sequence starts at w_0 (already stationary).
    """
    gain = math.sqrt(max(1 - rho * rho, 0.0))
    out = np.empty(len(w), np.result_type(w, float))
    x = previous
    for t in range(len(w)):
        x = w[t] if x is None else rho * x + gain * w[t]
        out[t] = x
    return out


def complex_gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    """n samples of CN(0, 1)."""
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * math.sqrt(0.5)


class ChannelModel:
    """AWGN's gains (all 1) and no erasures; subclasses override what they change."""

    name = ""
    uses = ()                       # the LinkConditions fields this model reads

    def __init__(self, conditions: LinkConditions | None = None):
        self.conditions = conditions or LinkConditions()
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new link)."""

    def gains(self, frames: int, rng: np.random.Generator, dt: float | None = None) -> np.ndarray:
        """One complex gain per frame for ``frames`` consecutive frames ``dt`` seconds apart."""
        return np.ones(frames, complex)

    def erasures(self, frames: int, symbols: int, rng: np.random.Generator) -> np.ndarray | None:
        """(frames, symbols) True where a data symbol is lost, or None if this model erases nothing."""
        return None

    def conditions_read(self) -> dict:
        """The link conditions this model reads, with their values."""
        return {k: getattr(self.conditions, k) for k in self.uses}

    def describe(self) -> dict:
        """The model and the conditions it reads: what the channel node announces."""
        return {"channel": self.name, **self.conditions_read()}


@register_channel("awgn")
class Awgn(ChannelModel):
    """y = x + n: a static link with line of sight and nothing moving."""


@register_channel("rayleigh")
class Rayleigh(ChannelModel):
    """h ~ CN(0, 1) drawn afresh every frame: rich scattering, frames independent (fast motion)."""

    def gains(self, frames, rng, dt=None):
        return complex_gaussian(rng, frames)


@register_channel("correlated_rayleigh")
class CorrelatedRayleigh(ChannelModel):
    """Clarke fading as first-order Gauss-Markov: h_t = ρ·h_{t-1} + sqrt(1-ρ²)·w_t, ρ = J0(2π·f_D·Δt).

    Matches the lag-one correlation of the Jakes spectrum exactly (METHOD §7).
    """

    uses = ("speed_mps", "carrier_ghz", "doppler_hz", "frame_interval_s")

    def reset(self):
        self.h = None

    def correlation(self, dt: float) -> float:
        return float(bessel_j0(2 * np.pi * self.conditions.max_doppler_hz * dt))

    def gains(self, frames, rng, dt=None):
        rho = self.correlation(self.conditions.frame_interval_s if dt is None else max(float(dt), 0.0))
        out = gauss_markov(complex_gaussian(rng, frames), rho, self.h)
        if frames:
            self.h = out[-1]
        return out


@register_channel("rician")
class Rician(CorrelatedRayleigh):
    """Line of sight plus time-correlated scattering: h = sqrt(K/(K+1))·e^{jθ} + sqrt(1/(K+1))·g_t, E|h|² = 1."""

    uses = CorrelatedRayleigh.uses + ("k_factor",)

    def reset(self):
        super().reset()
        self.los_phase = None

    def gains(self, frames, rng, dt=None):
        if self.los_phase is None:
            self.los_phase = float(rng.uniform(0, 2 * np.pi))
        k = self.conditions.k_factor
        scattered = super().gains(frames, rng, dt)
        return math.sqrt(k / (k + 1)) * np.exp(1j * self.los_phase) + math.sqrt(1 / (k + 1)) * scattered


@register_channel("gilbert_elliott")
class GilbertElliott(ChannelModel):
    """AWGN with burst erasures: a two-state Markov chain over blocks of symbols; bad blocks are lost.

    r = 1/burst_length (bad -> good), p = r·loss/(1-loss) (good -> bad), so the
    stationary loss is p/(p+r) = loss; the chain runs on across frames.
    """

    uses = ("burst_loss", "burst_length", "block_symbols")

    def reset(self):
        self.bad = None

    def erasures(self, frames, symbols, rng):
        c = self.conditions
        r = 1.0 / c.burst_length
        p = r * c.burst_loss / (1 - c.burst_loss)
        block = int(c.block_symbols)
        blocks = -(-symbols // block)
        u = rng.random(frames * blocks)
        state = rng.random() < c.burst_loss if self.bad is None else self.bad
        lost = np.empty(frames * blocks, bool)
        for i in range(lost.size):
            state = u[i] >= r if state else u[i] < p
            lost[i] = state
        if lost.size:
            self.bad = bool(lost[-1])
        return np.repeat(lost.reshape(frames, blocks), block, axis=1)[:, :symbols]


CHANNELS = tuple(CHANNEL_MODELS)


def make_channel(name: str, conditions: LinkConditions | None = None, **overrides) -> ChannelModel:
    """A registered model by name, with ``conditions`` (or defaults) updated by ``overrides``."""
    if name not in CHANNEL_MODELS:
        raise ValueError(f"unknown channel {name!r}; use one of {CHANNELS}")
    base = conditions or LinkConditions()
    if overrides:
        unknown = set(overrides) - {f.name for f in fields(LinkConditions)}
        if unknown:
            raise ValueError(f"unknown link conditions {sorted(unknown)}")
        base = replace(base, **overrides)
    return CHANNEL_MODELS[name](base)
