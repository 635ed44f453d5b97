"""Token merging inside timm ``VisionTransformer`` models.

``apply_merging(model)`` swaps the classes of the model, its blocks and
their attention layers for subclasses that merge after attention and before
the MLP; weights are untouched. ``model.merge_schedule`` selects per-layer
ratios or thresholds and can be changed between forward passes. With all
ratios zero the forward pass is the unmodified timm one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
import torch.nn.functional as F
from timm.layers.attention import Attention
from timm.models.vision_transformer import Block, VisionTransformer

from .merging import bipartite_match, merge_tokens, num_to_merge

MERGE_MODES = ("norm", "size")


@dataclass
class MergeSchedule:
    """Per-layer merge ratios r_l (fraction of current patch tokens) or thresholds tau_l."""

    ratios: Sequence[float] | None = None
    thresholds: Sequence[float] | None = None
    mode: str = "norm"
    prop_attn: bool = False

    def validate(self, depth: int) -> "MergeSchedule":
        if self.ratios is not None and self.thresholds is not None:
            raise ValueError("give merge ratios or thresholds, not both")
        if self.mode not in MERGE_MODES:
            raise ValueError(f"unknown merge mode {self.mode!r}; use one of {MERGE_MODES}")
        for name, values, lo, hi in (("ratios", self.ratios, 0.0, 1.0), ("thresholds", self.thresholds, -1.0, 1.0)):
            if values is None:
                continue
            values = [float(v) for v in values]
            if len(values) != depth:
                raise ValueError(f"{len(values)} merge {name} for a model with {depth} blocks")
            bad = [v for v in values if not (lo <= v <= hi)]
            if bad:
                raise ValueError(f"merge {name} must lie in [{lo}, {hi}]; got {bad}")
            setattr(self, name, values)
        return self

    @classmethod
    def of(cls, conf, **kw) -> "MergeSchedule":
        """The schedule a front configuration names (its ratios or its thresholds)."""
        return cls(ratios=conf.ratios, thresholds=conf.thresholds, **kw)

    @classmethod
    def uniform(cls, ratio: float, depth: int, **kw) -> "MergeSchedule":
        return cls(ratios=[ratio] * depth, **kw)

    @property
    def is_identity(self) -> bool:
        return self.thresholds is None and not any(self.ratios or [])


@dataclass
class MergeState:
    """What one forward pass carries between blocks and reports afterwards."""

    schedule: MergeSchedule
    trace_source: bool = False
    sizes: torch.Tensor | None = None             # (B, N, 1) patches held by each token
    source: torch.Tensor | None = None            # (B, N, N0) which patches each token holds
    tokens_per_layer: list[int] = field(default_factory=list)  # patch tokens after each block
    per_sample_tokens: list[list[int]] | None = None          # threshold mode: one list per image
    padding: torch.Tensor | None = None           # (B, N, 1) additive key bias: 0 real, -inf padding (batches)

    def reset(self, x: torch.Tensor, prefix: int) -> None:
        b, n, _ = x.shape
        self.sizes = x.new_ones(b, n, 1)
        self.source = None
        self.padding = None
        if self.trace_source:
            eye = torch.eye(n - prefix, dtype=x.dtype, device=x.device)
            self.source = F.pad(eye, (0, 0, prefix, 0)).expand(b, -1, -1)
        self.tokens_per_layer = []


class MergingAttention(Attention):
    """timm Attention that also returns head-averaged Values and accepts a log-size bias."""

    def forward(self, x: torch.Tensor, size_bias: torch.Tensor | None = None):
        B, N, _ = x.shape
        gate = self.gate(x).sigmoid() if getattr(self, "gate", None) is not None else None
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        mask = None if size_bias is None else size_bias[:, None, None, :, 0]
        if self.fused_attn:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=self.attn_drop.p if self.training else 0.0)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            if mask is not None:
                attn = attn + mask
            out = self.attn_drop(attn.softmax(dim=-1)) @ v
        out = out.transpose(1, 2).reshape(B, N, self.attn_dim)
        out = self.norm(out)
        if gate is not None:
            out = out * gate
        out = self.proj_drop(self.proj(out))
        return out, v.mean(dim=1)


def refuse_masks(attn_mask, is_causal: bool) -> None:
    """timm's signature accepts masks; merging changes the token set between blocks, so a mask cannot follow."""
    if attn_mask is not None or is_causal:
        raise NotImplementedError("token merging does not support attn_mask or is_causal: the tokens a mask "
                                  "refers to are merged between blocks")


class MergingBlock(Block):
    """timm Block that merges tokens between its attention and its MLP."""

    layer: int
    state: MergeState
    prefix: int

    def forward(self, x: torch.Tensor, attn_mask=None, is_causal: bool = False) -> torch.Tensor:
        refuse_masks(attn_mask, is_causal)
        st, sched = self.state, self.state.schedule
        size_bias = st.sizes.log() if sched.prop_attn and bool((st.sizes != 1).any()) else None
        if st.padding is not None:      # padded tokens of a batch are never attended to
            size_bias = st.padding if size_bias is None else size_bias + st.padding
        attn_out, metric = self.attn(self.norm1(x), size_bias)
        x = x + self.drop_path1(self.ls1(attn_out))
        n_patch = x.shape[1] - self.prefix
        if sched.thresholds is not None:
            match = bipartite_match(metric, self.prefix, threshold=sched.thresholds[self.layer])
        elif sched.ratios is not None and sched.ratios[self.layer] > 0:
            match = bipartite_match(metric, self.prefix, r=num_to_merge(sched.ratios[self.layer], n_patch))
        else:
            match = None
        if match is not None and match.merged:
            if st.padding is not None:
                raise ValueError("a padded batch cannot merge tokens (pad only blocks that do not merge)")
            x, st.sizes, st.source = merge_tokens(x, st.sizes, match, sched.mode, st.source)
        st.tokens_per_layer.append(x.shape[1] - self.prefix)
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


class MergingVisionTransformer(VisionTransformer):
    """VisionTransformer whose forward pass follows ``merge_schedule``.

    Threshold schedules give each image its own token count, so a batch is
    run sample by sample in that mode (exact, simple; costs batching speed).
    """

    merge_state: MergeState

    @property
    def merge_schedule(self) -> MergeSchedule:
        return self.merge_state.schedule

    @merge_schedule.setter
    def merge_schedule(self, schedule: MergeSchedule) -> None:
        self.merge_state.schedule = schedule.validate(len(self.blocks))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm_pre(self.patch_drop(self._pos_embed(self.patch_embed(x))))
        self.merge_state.reset(x, self.num_prefix_tokens)
        return x

    def run_blocks(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        for blk in self.blocks[start:stop]:
            x = blk(x)
        return x

    def pool(self, x: torch.Tensor, pool_type: str | None = None) -> torch.Tensor:
        pool_type = self.global_pool if pool_type is None else pool_type
        sizes = self.merge_state.sizes
        if pool_type == "avg" and self.attn_pool is None and sizes is not None and sizes.shape[1] == x.shape[1]:
            if bool((sizes != 1).any()):
                p = 0 if self.pool_include_prefix else self.num_prefix_tokens
                w = sizes[:, p:]
                return (x[:, p:] * w).sum(dim=1) / w.sum(dim=1)
        return super().pool(x, pool_type)

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.norm(x))

    def forward_features(self, x: torch.Tensor, attn_mask=None, is_causal: bool = False) -> torch.Tensor:
        refuse_masks(attn_mask, is_causal)
        return self.norm(self.run_blocks(self.embed(x)))

    def forward(self, x: torch.Tensor, attn_mask=None, is_causal: bool = False) -> torch.Tensor:
        refuse_masks(attn_mask, is_causal)
        if self.merge_state.schedule.thresholds is not None and x.shape[0] > 1:
            outs, counts = [], []
            for i in range(x.shape[0]):
                outs.append(self.forward(x[i:i + 1]))
                counts.append(self.merge_state.tokens_per_layer)
            self.merge_state.tokens_per_layer = [max(c) for c in zip(*counts)]
            self.merge_state.per_sample_tokens = counts
            return torch.cat(outs)
        self.merge_state.per_sample_tokens = None
        return self.forward_head(self.forward_features(x))


def apply_merging(model: VisionTransformer, schedule: MergeSchedule | None = None,
                  trace_source: bool = False) -> MergingVisionTransformer:
    """Turn a timm ViT into a merging one in place (weights untouched) and return it."""
    if not isinstance(model, VisionTransformer):
        raise TypeError(f"token merging supports timm VisionTransformer models, not {type(model).__name__}")
    for i, blk in enumerate(model.blocks):
        if type(blk) not in (Block, MergingBlock) or type(blk.attn) not in (Attention, MergingAttention):
            raise TypeError(f"block {i} is {type(blk).__name__}/{type(blk.attn).__name__}; "
                            "only timm Block with standard Attention can merge tokens")
    if not isinstance(model, MergingVisionTransformer):
        model.__class__ = type(f"Merging{type(model).__name__}", (MergingVisionTransformer, type(model)), {})
    depth = len(model.blocks)
    state = MergeState((schedule or MergeSchedule(ratios=[0.0] * depth)).validate(depth), trace_source)
    model.merge_state = state
    for i, blk in enumerate(model.blocks):
        blk.__class__, blk.attn.__class__ = MergingBlock, MergingAttention
        blk.layer, blk.state, blk.prefix = i, state, model.num_prefix_tokens
    return model
