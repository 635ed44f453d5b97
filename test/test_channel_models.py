"""The moving robot's channels: each model's statistics against its definition (METHOD §7)."""
import math

import numpy as np
import pytest
import torch

from semcom_ros.core.link.channel_models import (CHANNELS, LinkConditions, bessel_j0, make_channel)
from semcom_ros.core.link.channels import Channel, complex_normal, power_normalize
from semcom_ros.core.link.snr_profiles import SnrProfile, shadowing_map


def test_j0_at_known_points():
    # Abramowitz & Stegun table 9.1, and the first zero 2.404825557695773
    assert bessel_j0([0.0, 1.0, 2.0, 5.0]) == pytest.approx([1.0, 0.7651976866, 0.2238907791, -0.1775967713], abs=1e-9)
    assert abs(float(bessel_j0(2.404825557695773))) < 1e-9


@pytest.mark.parametrize("speed, carrier, dt", [(0.5, 2.4, 0.1), (2.0, 2.4, 0.1), (1.0, 5.9, 0.1), (10.0, 5.9, 0.02)])
def test_correlated_rayleigh_follows_clarke(speed, carrier, dt):
    """Lag-one correlation = J0(2π f_D Δt) with f_D = v f_c / c; |h|² exponential with mean 1."""
    model = make_channel("correlated_rayleigh", speed_mps=speed, carrier_ghz=carrier)
    f_d = speed * carrier * 1e9 / 299_792_458.0
    assert model.conditions.max_doppler_hz == pytest.approx(f_d)
    h = model.gains(100_000, np.random.default_rng(1), dt)
    rho = float(np.mean(h[1:] * np.conj(h[:-1])).real / np.mean(np.abs(h) ** 2))
    assert rho == pytest.approx(float(bessel_j0(2 * math.pi * f_d * dt)), abs=0.03)
    power = np.abs(h) ** 2
    assert power.mean() == pytest.approx(1.0, abs=0.05)
    assert np.mean(power < 0.1) == pytest.approx(1 - math.exp(-0.1), abs=0.01)     # Rayleigh deep fades


def test_correlated_rayleigh_keeps_its_memory_across_calls():
    """One frame per call (the node's use) gives the same correlation as a block of frames."""
    model, rng = make_channel("correlated_rayleigh", doppler_hz=2.0), np.random.default_rng(2)
    h = np.array([model.gains(1, rng, 0.1)[0] for _ in range(20_000)])
    rho = float(np.mean(h[1:] * np.conj(h[:-1])).real / np.mean(np.abs(h) ** 2))
    assert rho == pytest.approx(float(bessel_j0(2 * math.pi * 0.2)), abs=0.03)
    iid = make_channel("rayleigh").gains(20_000, rng)
    assert abs(np.mean(iid[1:] * np.conj(iid[:-1]))) < 0.03


@pytest.mark.parametrize("k", [0.0, 1.0, 5.0])
def test_rician_line_of_sight_power_and_k(k):
    h = make_channel("rician", k_factor=k, doppler_hz=50.0).gains(100_000, np.random.default_rng(3), 0.1)
    los = np.abs(h.mean()) ** 2
    scattered = np.mean(np.abs(h - h.mean()) ** 2)
    assert los + scattered == pytest.approx(1.0, abs=0.05)
    assert los == pytest.approx(k / (k + 1), abs=0.03)
    if k:
        assert los / scattered == pytest.approx(k, rel=0.1)


@pytest.mark.parametrize("loss, burst", [(0.05, 4.0), (0.2, 10.0), (0.1, 1.0)])
def test_gilbert_elliott_loss_and_burst_length(loss, burst):
    model = make_channel("gilbert_elliott", burst_loss=loss, burst_length=burst, block_symbols=8)
    lost = model.erasures(4000, 400, np.random.default_rng(4))          # 50 blocks a frame
    blocks = lost[:, ::8].reshape(-1)
    assert (lost.reshape(4000, 50, 8) == lost[:, ::8, None]).all()      # whole blocks at a time
    assert blocks.mean() == pytest.approx(loss, rel=0.1)
    edges = np.flatnonzero(np.diff(np.r_[0, blocks.astype(int), 0]))
    runs = edges[1::2] - edges[::2]
    assert runs.mean() == pytest.approx(burst, rel=0.1)


def test_erased_symbols_reach_the_decoder_as_zero_and_pilots_survive():
    g = torch.Generator().manual_seed(5)
    z = power_normalize(complex_normal((200, 160), 1.0, g))
    rx = Channel("gilbert_elliott", csi="pilot", conditions=LinkConditions(burst_loss=0.3, block_symbols=16)).transmit(
        z, 30.0, g)
    assert rx.erased is not None and rx.erased.float().mean().item() == pytest.approx(0.3, abs=0.05)
    assert (rx.symbols[rx.erased] == 0).all()
    kept = ~rx.erased
    assert ((rx.symbols[kept] - z[kept]).abs() ** 2).mean().item() < 0.01      # 30 dB, pilots still estimate h
    assert rx.snr_est_db.mean().item() == pytest.approx(30.0, abs=1.5)


def test_unknown_models_and_bad_conditions_are_refused():
    with pytest.raises(ValueError, match="unknown channel"):
        make_channel("two_ray")
    with pytest.raises(ValueError, match="burst_loss"):
        LinkConditions(burst_loss=1.0)
    with pytest.raises(ValueError, match="speed_mps"):
        LinkConditions(speed_mps=float("nan"))
    with pytest.raises(ValueError, match="unknown link conditions"):
        make_channel("rician", kfactor=3)
    assert {"awgn", "rayleigh", "correlated_rayleigh", "rician", "gilbert_elliott"} <= set(CHANNELS)


def test_trajectory_profile_path_loss_and_shadowing():
    p = SnrProfile("trajectory", speed_mps=2.0, distance_min_m=5.0, distance_max_m=105.0, snr_at_1m_db=50.0,
                   path_loss_exponent=3.0, shadowing_db=6.0, shadowing_distance_m=10.0, seed=1)
    assert p.distance_at(0) == 5.0 and p.distance_at(25) == 55.0 and p.distance_at(75) == 55.0
    assert p.at(10.0) == p.at(90.0)                       # shadowing belongs to the place: same on the way back
    t = np.arange(0, 50, 0.05)
    d = np.array([p.distance_at(s) for s in t])
    grid, shadow = shadowing_map(5.0, 105.0, 6.0, 10.0, 1)
    assert np.array([p.at(s) for s in t]) == pytest.approx(50.0 - 30.0 * np.log10(d) + np.interp(d, grid, shadow))
    grid, shadow = shadowing_map(0.0, 20_000.0, 6.0, 10.0, 2)          # 2 000 decorrelation distances
    assert shadow.std() == pytest.approx(6.0, rel=0.1) and abs(shadow.mean()) < 0.6
    for metres in (2.0, 5.0, 10.0, 20.0):
        lag = int(round(metres / (grid[1] - grid[0])))
        assert np.corrcoef(shadow[:-lag], shadow[lag:])[0, 1] == pytest.approx(math.exp(-metres / 10.0), abs=0.06)
    flat = SnrProfile("trajectory", shadowing_db=0.0, snr_at_1m_db=40.0, path_loss_exponent=2.0, distance_min_m=10.0,
                      distance_max_m=20.0)
    assert flat.at(0.0) == pytest.approx(20.0)
    with pytest.raises(ValueError, match="distance_min_m"):
        SnrProfile("trajectory", distance_min_m=30.0, distance_max_m=3.0)


def test_snr_filter_recovers_the_mean_snr_from_faded_estimates():
    from semcom_ros.core.link.snr_filter import SnrFilter

    h = make_channel("rayleigh").gains(20_000, np.random.default_rng(6))
    estimates = 10.0 + 10 * np.log10(np.abs(h) ** 2)            # what pilots see at a 10 dB mean SNR
    f = SnrFilter(1.0)
    out = [f.update(float(e), k * 0.1) for k, e in enumerate(estimates)]
    assert np.mean(out[100:]) == pytest.approx(10.0, abs=0.5)   # linear averaging: unbiased
    assert np.mean(estimates) == pytest.approx(10.0 - 2.51, abs=0.1)     # the dB mean is 2.5 dB low
    assert np.std(out[100:]) < 0.5 * np.std(estimates)
    assert SnrFilter(0.0).update(3.0, 0.0) == pytest.approx(3.0) and SnrFilter().update(-7.0, 5.0) == pytest.approx(-7)
    with pytest.raises(ValueError):
        SnrFilter(-1.0)
