"""Channel models: exact power normalisation, noise at the requested SNR, fading, pilots."""
import math

import pytest
import torch

from semcom_ros.core.link.channel_models import CHANNELS, make_channel
from semcom_ros.core.link.channels import (Channel, complex_normal, noise_variance, pilot_symbols, power_normalize,
                                           propagate)


def frames(b=64, k=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    return power_normalize(complex_normal((b, k), 3.0, g) + 0.5), g


@pytest.mark.parametrize("power", [1.0, 0.25, 4.0])
def test_power_normalisation_is_exact(power):
    z, _ = frames()
    zn = power_normalize(z, power)
    assert torch.allclose((zn.abs() ** 2).mean(dim=1), torch.full((z.shape[0],), power), rtol=1e-5)


# |n|^2 of CN(0, s2) is exponential: the mean of M samples has relative std 1/sqrt(M).
# With M = 128 000 a 5-sigma band is +-1.4 %.
@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 12.5, 25.0])
def test_awgn_noise_variance_matches_snr(snr_db):
    z, g = frames()
    rx = Channel("awgn").transmit(z, snr_db, g)
    noise = rx.symbols - z
    measured = (noise.abs() ** 2).mean().item()
    expected = noise_variance(snr_db).item()
    assert abs(measured / expected - 1) < 5 / math.sqrt(noise.numel())
    assert torch.all(rx.h == 1)


@pytest.mark.parametrize("snr_db", [0.0, 20.0])
def test_rayleigh_block_fading_statistics(snr_db):
    z, g = frames(b=4000, k=100)
    rx = Channel("rayleigh", csi="known").transmit(z, snr_db, g)
    # one gain per frame, E|h|^2 = 1 (4000 frames: 5 sigma = 8 %)
    assert abs((rx.h.abs() ** 2).mean().item() - 1) < 5 / math.sqrt(4000)
    noise = (rx.symbols - z) * rx.h[:, None]          # undo zero-forcing: n = h (y/h - z)
    measured = (noise.abs() ** 2).mean().item()
    assert abs(measured / noise_variance(snr_db).item() - 1) < 5 / math.sqrt(noise.numel())
    eff = rx.effective_snr_db
    assert torch.allclose(eff, snr_db + 10 * torch.log10(rx.h.abs() ** 2), atol=1e-4)


def test_pilot_estimates_track_gain_and_snr():
    z, g = frames(b=2000, k=50)
    ch = Channel("rayleigh", csi="pilot", n_pilots=64)
    rx = ch.transmit(z, 15.0, g)
    # LS estimate error variance is sigma^2 / n_pilots
    err = (rx.h_used - rx.h).abs() ** 2
    assert abs(err.mean().item() / (noise_variance(15.0).item() / 64) - 1) < 0.2
    gap = (rx.snr_est_db - rx.effective_snr_db).median().item()
    assert abs(gap) < 1.0


def test_known_csi_beats_pilot_estimates_at_low_snr():
    z, g = frames(b=500, k=200)
    known = Channel("rayleigh", "known").transmit(z, 0.0, torch.Generator().manual_seed(3))
    pilot = Channel("rayleigh", "pilot", n_pilots=4).transmit(z, 0.0, torch.Generator().manual_seed(3))

    faded = known.h.abs() > 0.5         # same gains in both (same seed); leave out deep fades, where both fail

    def err(rx):
        return ((rx.symbols - z).abs() ** 2).mean(dim=1)[faded].mean().item()
    assert (known.h == pilot.h).all() and err(known) < 0.8 * err(pilot)


def test_bad_channel_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown channel"):
        Channel("two_ray")
    with pytest.raises(ValueError, match="CSI"):
        Channel("awgn", csi="perfect")
    with pytest.raises(ValueError, match="pilots"):
        Channel("awgn", n_pilots=1)
    z, g = frames(b=2, k=10)
    with pytest.raises(ValueError, match="finite"):
        Channel().transmit(z, float("nan"), g)


@pytest.mark.parametrize("kind", CHANNELS)
@pytest.mark.parametrize("snr_db", [-5.0, 10.0, 25.0])
def test_numpy_channel_of_the_emulator_matches_the_torch_one(kind, snr_db):
    """The emulator node's numpy channel: same noise power and fading statistics as channels.propagate."""
    import numpy as np

    from semcom_ros.core.link import numpy_channel

    rng, g = np.random.default_rng(1), torch.Generator().manual_seed(1)
    x = np.exp(1j * np.linspace(0, 6.28, 400)).astype(np.complex64)       # unit power
    model = make_channel(kind)
    frames_np = [(f.y, f.h) for f in (numpy_channel.propagate(x, model, snr_db, rng) for _ in range(2000))]
    y_t, h_t, _ = propagate(torch.from_numpy(np.tile(x, (2000, 1))), kind, snr_db, g)
    noise_np = np.mean([np.mean(np.abs(y - h * x)[y != 0] ** 2) for y, h in frames_np])   # erased symbols are 0
    noise_t = ((y_t - h_t[:, None] * torch.from_numpy(x)).abs() ** 2).mean().item()
    expected = noise_variance(snr_db).item()
    assert noise_np == pytest.approx(expected, rel=0.02) and noise_t == pytest.approx(expected, rel=0.02)
    gain_np = np.mean([abs(h) ** 2 for _, h in frames_np])
    gain_t = (h_t.abs() ** 2).mean().item()
    assert gain_np == pytest.approx(gain_t, abs=0.1) and gain_np == pytest.approx(1.0, abs=0.1)
    spread_np, spread_t = np.std([abs(h) for _, h in frames_np]), h_t.abs().std().item()
    assert spread_np == pytest.approx(spread_t, abs=0.05)
    if kind in ("rayleigh", "correlated_rayleigh"):     # a real spread of gains, not a constant
        assert spread_np > 0.3
    assert frames_np[0][0].dtype == np.complex64


def test_channel_emulator_node_runs_without_torch():
    import subprocess
    import sys

    code = ("import sys; import semcom_ros.nodes.channel; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


@pytest.mark.parametrize("kind", ["awgn", "rayleigh"])
@pytest.mark.parametrize("snr_db", [-5.0, 20.0])
def test_the_servers_numpy_receiver_equalises_as_the_torch_one(kind, snr_db):
    """numpy_channel.receive (the server's per-frame path) = estimate_from_pilots + equalize, frame by frame."""
    import numpy as np

    from semcom_ros.core.link import numpy_channel
    from semcom_ros.core.link.channels import equalize, estimate_from_pilots, with_pilots

    g = torch.Generator().manual_seed(3)
    n_pilots, z = 16, torch.randn(50, 120, dtype=torch.complex64, generator=g)
    y, _, _ = propagate(with_pilots(z, n_pilots), kind, snr_db, g)
    h_est, snr_est = estimate_from_pilots(y, n_pilots)
    data = equalize(y[:, n_pilots:], h_est)
    for i in range(len(y)):
        got, snr = numpy_channel.receive(y[i].numpy(), n_pilots)
        assert got.dtype == np.complex64 and got.shape == (120,)
        np.testing.assert_allclose(got, data[i].numpy(), rtol=1e-4, atol=1e-5)
        assert snr == pytest.approx(snr_est[i].item(), abs=1e-3)
    # the pilots are the torch ones, and a dead channel is guarded as equalize guards it
    np.testing.assert_allclose(numpy_channel.pilot_symbols(8, 2.0), pilot_symbols(8, 2.0).numpy(), atol=1e-5)
    assert np.isfinite(numpy_channel.receive(np.zeros(40, np.complex64), n_pilots)[0]).all()
