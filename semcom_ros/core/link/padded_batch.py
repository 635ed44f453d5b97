"""The server half for several frames at once: pad to the longest frame, mask the padding.

Frames from different robots (or one robot's differently merged frames) carry
different token counts. They are decoded together by padding every frame to
the longest with tokens that are never attended to and hold no patches (so
size-weighted pooling ignores them): each frame's logits equal its one-frame
logits up to float rounding. Frames that cannot share a pass run alone, with
the same code: those whose configuration merges tokens after the split (the
server blocks), and every frame of a model whose pooling a mask cannot follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .numpy_channel import receive
from .semantic_link import SemanticLink
from ..model.merging_vit import MergeSchedule

MASKABLE_POOLS = ("token", "avg")


@dataclass
class ReceivedFrame:
    """One frame as the server holds it after pilot equalisation."""

    symbols: torch.Tensor       # (N*m,) complex data symbols, equalised
    snr_db: float               # pilot estimate the decoder is told
    sizes: torch.Tensor         # (N,) patches each token holds
    rate: int                   # complex symbols per token
    schedule: MergeSchedule | None = None    # the frame's configuration (its blocks after the split apply here)

    @property
    def tokens(self) -> int:
        return int(self.sizes.shape[0])

    @property
    def channel_uses(self) -> int:
        return int(self.symbols.shape[0])

    @classmethod
    def from_received(cls, y: np.ndarray, n_pilot_symbols: int, sizes: np.ndarray, rate: int,
                      schedule: MergeSchedule | None = None) -> "ReceivedFrame":
        """Estimate the channel from the leading pilots of ``y`` (1-D) and equalise the data after them."""
        data, snr_db = receive(np.asarray(y, dtype=np.complex64).reshape(-1), n_pilot_symbols)
        return cls(torch.from_numpy(data), snr_db, torch.from_numpy(np.asarray(sizes, dtype=np.float32).reshape(-1)),
                   int(rate), schedule)


def merges_on_server(link: SemanticLink, schedule: MergeSchedule | None) -> bool:
    """Whether ``schedule`` merges tokens in the blocks the server runs (after the split)."""
    if schedule is None or link.split >= link.depth:
        return False
    if schedule.thresholds is not None:          # cosine similarity never exceeds 1: a threshold of 1 never merges
        return any(t < 1.0 for t in schedule.thresholds[link.split:])
    return any(r > 0 for r in (schedule.ratios or [])[link.split:])


def batchable(link: SemanticLink) -> bool:
    m = link.model
    return m.global_pool in MASKABLE_POOLS and getattr(m, "attn_pool", None) is None


def _decode_tokens(link: SemanticLink, frames: Sequence[ReceivedFrame], max_padding: float) -> list[torch.Tensor]:
    """JSCC-decode every frame (together per rate and similar length, zero-padded symbols): (N_i, d) tokens."""
    out: list[torch.Tensor | None] = [None] * len(frames)
    for rate in sorted({f.rate for f in frames}):
        same_rate = [i for i, f in enumerate(frames) if f.rate == rate]
        code = link.codes.get(rate)
        if code is None:
            raise KeyError(f"no JSCC code for rate {rate}; this link has {link.rates or 'none'}")
        for group in padded_groups([frames[i].channel_uses for i in same_rate], max_padding):
            idx = [same_rate[g] for g in group]
            longest = max(frames[i].channel_uses for i in idx)
            symbols = torch.zeros(len(idx), longest, dtype=torch.complex64, device=link.device)
            for row, i in enumerate(idx):
                symbols[row, :frames[i].channel_uses] = frames[i].symbols.to(link.device)
            snr = torch.tensor([frames[i].snr_db for i in idx], device=link.device)
            tokens = code.decode(symbols, snr)
            for row, i in enumerate(idx):
                out[i] = tokens[row, :frames[i].tokens]
    return out


def _padded_pass(link: SemanticLink, tokens: list[torch.Tensor], sizes: list[torch.Tensor]) -> torch.Tensor:
    n = max(t.shape[0] for t in tokens)
    batch = tokens[0].new_zeros(len(tokens), n, tokens[0].shape[-1])
    size = batch.new_zeros(len(tokens), n)
    padding = torch.ones(len(tokens), n, dtype=torch.bool, device=batch.device)
    for i, (t, s) in enumerate(zip(tokens, sizes)):
        batch[i, :t.shape[0]] = t
        size[i, :t.shape[0]] = s.to(batch.device, batch.dtype)
        padding[i, :t.shape[0]] = False
    if not bool(padding.any()):
        padding = None
    return link.server(batch, size, padding)


def padded_groups(counts: Sequence[int], max_padding: float = 1.0) -> list[list[int]]:
    """Indices grouped into passes, longest first; no frame padded by more than ``max_padding`` of its pass.

    Padding is compute spent on nothing: on a CPU, where a pass costs what its
    tokens cost, a pass should hold frames of similar length; on a GPU, where
    one wide pass is cheaper than several, ``max_padding`` 1 puts all in one.
    """
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and counts[groups[-1][0]] - counts[i] <= max_padding * counts[groups[-1][0]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


@torch.no_grad()
def decode_frames(link: SemanticLink, frames: Sequence[ReceivedFrame], max_padding: float = 1.0) -> torch.Tensor:
    """Logits (B, classes) for received frames, in order, in as few forward passes as they and ``max_padding`` allow.

    ``max_padding``: the largest share of a pass's tokens that may be padding (1: one pass for all).
    """
    if not frames:
        raise ValueError("no frames to decode")
    tokens = _decode_tokens(link, frames, max_padding)
    can_pad = batchable(link)
    alone = [i for i, f in enumerate(frames) if merges_on_server(link, f.schedule) or not can_pad]
    shared = [i for i in range(len(frames)) if i not in alone]
    logits: list[torch.Tensor | None] = [None] * len(frames)
    saved = link.schedule
    try:
        link.schedule = MergeSchedule.uniform(0.0, link.depth)
        for group in padded_groups([frames[i].tokens for i in shared], max_padding):
            rows = [shared[g] for g in group]
            out = _padded_pass(link, [tokens[i] for i in rows], [frames[i].sizes for i in rows])
            for row, i in enumerate(rows):
                logits[i] = out[row]
        for i in alone:
            link.schedule = frames[i].schedule or MergeSchedule.uniform(0.0, link.depth)
            logits[i] = link.server(tokens[i][None], frames[i].sizes[None].to(link.device))[0]
    finally:
        link.schedule = saved
    return torch.stack(logits)
