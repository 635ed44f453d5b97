"""Edge once, many links: run a set of frames through the edge once, then through any number of channels.

The edge (ViT blocks with merging, JSCC encoder) is most of the cost of
measuring a configuration; its symbols do not depend on the channel. Tables
by channel and SNR, the optimiser's evaluation and the moving-robot traces
all send the same symbols through many links: this is the one loop they share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from .channels import Channel
from .semantic_link import EdgeFrame, SemanticLink


@dataclass
class EdgeBatch:
    """One batch of frames after the edge: which frames (a slice of the set) and what the edge sent."""

    frames: slice
    edge: EdgeFrame


def edge_batches(link: SemanticLink, x: torch.Tensor, batch: int = 250) -> Iterator[EdgeBatch]:
    """The edge over ``x`` in batches (one frame at a time for threshold schedules: token counts differ)."""
    step = 1 if link.schedule.thresholds is not None else max(1, int(batch))
    for i in range(0, len(x), step):
        yield EdgeBatch(slice(i, min(i + step, len(x))), link.edge(x[i:i + step]))


def edge_pool(link: SemanticLink, x: torch.Tensor, batch: int = 250) -> EdgeFrame:
    """The edge over all of ``x`` as one frame batch, for drawing frames from it in any order (ratio schedules)."""
    if link.schedule.thresholds is not None:
        raise ValueError("a pool needs one token count for every frame: use a ratio schedule")
    parts = [b.edge for b in edge_batches(link, x, batch)]
    return EdgeFrame(torch.cat([p.tokens for p in parts]), torch.cat([p.sizes for p in parts]),
                     None if parts[0].symbols is None else torch.cat([p.symbols for p in parts]),
                     parts[0].tokens_per_layer)


@torch.no_grad()
def through_channel(link: SemanticLink, edge: EdgeFrame, channel: Channel, snr_db, generator: torch.Generator,
                    frames=None, h: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted classes and the receiver's SNR estimates of frames after the edge, sent over ``channel``.

    ``frames`` picks some of ``edge``'s frames (all by default); ``snr_db`` is one
    value or one per frame; fading gains are drawn, or given as ``h``.
    """
    symbols, sizes = edge.symbols.cpu(), edge.sizes
    if frames is not None:
        symbols, sizes = symbols[frames], sizes[frames]
    rx = channel.transmit(symbols, snr_db, generator, h=h)    # the channel's noise is drawn on the CPU
    return link.decode(rx.symbols, rx.decoder_snr_db, sizes).argmax(-1).cpu(), rx.snr_est_db
