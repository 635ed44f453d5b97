"""Learned per-token joint source-channel code (METHOD §6).

Each token (d reals) becomes m complex symbols; a frame's symbols are
power-normalised together (mean |z|² = P). The decoder also reads the SNR
the receiver believes, so one trained pair serves every SNR.
"""
from __future__ import annotations

import torch
from torch import nn

from .channels import power_normalize

SNR_RANGE_DB = (-10.0, 25.0)


class JSCC(nn.Module):
    """Token encoder d -> m complex symbols and decoder back to token space."""

    def __init__(self, dim: int, symbols_per_token: int, hidden: int | None = None,
                 snr_range_db: tuple[float, float] = SNR_RANGE_DB):
        super().__init__()
        if symbols_per_token < 1:
            raise ValueError("symbols_per_token must be >= 1")
        if not snr_range_db[0] < snr_range_db[1]:
            raise ValueError(f"SNR range must be (low, high) with low < high, got {snr_range_db}")
        hidden = hidden or 2 * dim
        self.dim, self.m = dim, symbols_per_token
        self.snr_range_db = (float(snr_range_db[0]), float(snr_range_db[1]))   # what the decoder was trained on
        # fixed feature standardisation, set from data before training
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, 2 * symbols_per_token))
        self.decoder = nn.Sequential(nn.Linear(2 * symbols_per_token + 1, hidden), nn.GELU(),
                                     nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, dim))

    @torch.no_grad()
    def fit_standardisation(self, tokens: torch.Tensor) -> None:
        flat = tokens.reshape(-1, self.dim)
        self.mean.copy_(flat.mean(0))
        self.std.copy_(flat.std(0).clamp_min(1e-4))

    def encode(self, tokens: torch.Tensor, power: float = 1.0) -> torch.Tensor:
        """(B, N, d) tokens -> (B, N*m) complex symbols with mean power ``power`` per frame."""
        b, n, _ = tokens.shape
        re_im = self.encoder((tokens - self.mean) / self.std).reshape(b, n * self.m, 2)
        return power_normalize(torch.complex(re_im[..., 0].float(), re_im[..., 1].float()), power)

    def decode(self, symbols: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        """(B, N*m) received complex symbols (+ per-frame SNR in dB) -> (B, N, d) tokens."""
        b = symbols.shape[0]
        feats = torch.view_as_real(symbols.to(torch.complex64)).reshape(b, -1, 2 * self.m)
        lo, hi = self.snr_range_db
        snr = ((torch.as_tensor(snr_db, dtype=feats.dtype).reshape(-1).expand(b).clamp(lo, hi) - lo) / (hi - lo))
        snr = snr[:, None, None].expand(-1, feats.shape[1], 1)
        return self.decoder(torch.cat([feats, snr], dim=-1)) * self.std + self.mean
