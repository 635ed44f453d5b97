"""Training-free bipartite token merging (APTM §V-A, after ToMe).

Tokens are laid out ``[protected prefix | patch tokens]``. Patch tokens at
even positions form the source set A, odd positions the destination set B;
prefix tokens (class, distillation, registers) are never matched. Each
source picks its most similar destination by cosine similarity of a metric
(head-averaged attention Values); the best-scoring sources are merged away.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

EPS = 1e-6


@dataclass
class Match:
    """Which sources of A merge into which destination of B, and which stay."""

    prefix: int
    src_idx: torch.Tensor   # (B, r, 1) positions in A merged away
    dst_idx: torch.Tensor   # (B, r, 1) positions in B they merge into
    unm_idx: torch.Tensor   # (B, |A|-r, 1) positions in A kept

    @property
    def merged(self) -> int:
        return self.src_idx.shape[1]


def num_to_merge(ratio: float, n_patch: int) -> int:
    """Eq. 2 with the bipartite cap: floor(r·N), at most |A| = ceil(N/2)."""
    return min(int(ratio * n_patch), (n_patch + 1) // 2)


@torch.no_grad()     # which tokens merge is a choice, not a function to differentiate (as ToMe)
def bipartite_match(metric: torch.Tensor, prefix: int, r: int | None = None,
                    threshold: float | None = None) -> Match:
    """Match sources to destinations; merge ``r`` of them, or all above ``threshold``.

    With a threshold the count depends on the data, so the batch must hold a
    single sample (callers run batches sample by sample in that mode).
    """
    patches = metric[:, prefix:]
    patches = patches / patches.norm(dim=-1, keepdim=True).clamp_min(EPS)
    a, b = patches[:, ::2], patches[:, 1::2]
    if b.shape[1] == 0:
        r = 0
    scores = a @ b.transpose(-1, -2) if b.shape[1] else a.new_zeros(a.shape[0], a.shape[1], 1)
    best, best_dst = scores.max(dim=-1)
    if threshold is not None:
        if metric.shape[0] != 1:
            raise ValueError("threshold merging needs batch size 1 (run samples one by one)")
        r = int((best > threshold).sum()) if b.shape[1] else 0
    r = max(0, min(int(r or 0), a.shape[1]))
    order = best.argsort(dim=-1, descending=True)[..., None]
    src_idx, unm_idx = order[:, :r], order[:, r:]
    dst_idx = best_dst[..., None].gather(1, src_idx)
    return Match(prefix, src_idx, dst_idx, unm_idx)


def merge(x: torch.Tensor, m: Match, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Apply a match to per-token values ``x`` (B, N, C).

    ``weight`` (B, N, 1) gives a weighted mean over each destination group
    (norms: eq. 12; sizes: ToMe). Without it groups are summed, which is how
    sizes and source maps combine.
    """
    if m.merged == 0:
        return x
    head, patches = x[:, :m.prefix], x[:, m.prefix:]
    a, b = patches[:, ::2], patches[:, 1::2]
    c = x.shape[-1]
    unm = a.gather(1, m.unm_idx.expand(-1, -1, c))
    src = a.gather(1, m.src_idx.expand(-1, -1, c))
    dst = m.dst_idx.expand(-1, -1, c)
    if weight is None:
        b = b.scatter_add(1, dst, src)
    else:
        w = weight[:, m.prefix:]
        wa, wb = w[:, ::2], w[:, 1::2]
        w_src = wa.gather(1, m.src_idx)
        num = (b * wb).scatter_add(1, dst, src * w_src)
        b = num / (wb.scatter_add(1, m.dst_idx, w_src) + EPS)
    return torch.cat([head, unm, b], dim=1)


def merge_tokens(x: torch.Tensor, sizes: torch.Tensor, m: Match, mode: str = "norm",
                 source: torch.Tensor | None = None):
    """Merge tokens, their sizes (patches per token) and optionally the source map.

    ``mode='norm'`` weighs each token by its L2 norm (APTM eq. 12);
    ``mode='size'`` by the patches it already holds (ToMe).
    """
    if mode == "norm":
        weight = x.norm(dim=-1, keepdim=True)
    elif mode == "size":
        weight = sizes
    else:
        raise ValueError(f"unknown merge mode {mode!r}; use 'norm' or 'size'")
    x_new = merge(x, m, weight)
    sizes_new = merge(sizes, m)
    source_new = merge(source, m) if source is not None else None
    return x_new, sizes_new, source_new
