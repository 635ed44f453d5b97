"""Analytic multiply-accumulate counts in the ToMe/PiToMe convention (METHOD §1).

Per block: attention ``4·N·d² + 2·N²·d`` at the tokens the block receives,
MLP ``2·h·N·d`` (h = hidden width; 8·N·d² for 4x expansion) at the tokens
left after merging. Patch embedding and head are added once. The papers call
these "GFLOPs"; they are MACs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .merging import num_to_merge


@dataclass(frozen=True)
class VitShape:
    """What the MAC count depends on."""

    dim: int
    depth: int
    mlp_hidden: int
    num_patches: int
    prefix: int
    patch_macs: int          # patch-embedding MACs per image
    head_macs: int           # classifier MACs per image

    @classmethod
    def of(cls, model) -> "VitShape":
        pe = model.patch_embed
        dim = model.embed_dim
        in_per_patch = pe.proj.in_channels * pe.proj.kernel_size[0] * pe.proj.kernel_size[1]
        head = getattr(model.head, "in_features", 0) * getattr(model.head, "out_features", 0)
        return cls(dim=dim, depth=len(model.blocks), mlp_hidden=model.blocks[0].mlp.fc1.out_features,
                   num_patches=pe.num_patches, prefix=model.num_prefix_tokens,
                   patch_macs=pe.num_patches * in_per_patch * dim, head_macs=head)


def scheduled_token_counts(shape: VitShape, ratios: Sequence[float]) -> list[int]:
    """Patch tokens after each block for a ratio schedule (eq. 2 with the bipartite cap)."""
    n, counts = shape.num_patches, []
    for r in ratios:
        n -= num_to_merge(r, n)
        counts.append(n)
    return counts


def macs(shape: VitShape, tokens_per_layer: Sequence[float] | None = None) -> float:
    """MACs of one image given patch tokens after each block (None: no merging)."""
    counts = list(tokens_per_layer) if tokens_per_layer is not None else [shape.num_patches] * shape.depth
    if len(counts) != shape.depth:
        raise ValueError(f"{len(counts)} token counts for a model with {shape.depth} blocks")
    d, total, n_in = shape.dim, float(shape.patch_macs + shape.head_macs), shape.num_patches + shape.prefix
    for n_patch in counts:
        n_out = n_patch + shape.prefix
        total += 4 * n_in * d * d + 2 * n_in * n_in * d + 2 * shape.mlp_hidden * n_out * d
        n_in = n_out
    return total


def gmacs(shape: VitShape, tokens_per_layer: Sequence[float] | None = None) -> float:
    return macs(shape, tokens_per_layer) / 1e9


def edge_macs(shape: VitShape, tokens_per_layer: Sequence[float] | None, split: int, jscc_hidden: int = 0,
              symbols_per_token: int = 0) -> float:
    """MACs on the robot for a split after block ``split``: patch embedding, blocks 1..split, JSCC encoder.

    The encoder is two linear layers per token sent (d -> hidden -> 2m reals),
    as ``link/jscc.py`` builds it; the class token is sent too.
    """
    counts = list(tokens_per_layer) if tokens_per_layer is not None else [shape.num_patches] * shape.depth
    if not 0 < split <= shape.depth or len(counts) != shape.depth:
        raise ValueError(f"split {split} / {len(counts)} token counts for a model with {shape.depth} blocks")
    d, total, n_in = shape.dim, float(shape.patch_macs), shape.num_patches + shape.prefix
    for n_patch in counts[:split]:
        n_out = n_patch + shape.prefix
        total += 4 * n_in * d * d + 2 * n_in * n_in * d + 2 * shape.mlp_hidden * n_out * d
        n_in = n_out
    return total + n_in * (d * jscc_hidden + jscc_hidden * 2 * symbols_per_token)
