"""The semantic link: edge half (merging ViT + JSCC encoder) and server half.

The edge runs blocks ``1..split`` with the active merge schedule and sends
the surviving tokens; the server decodes them, runs blocks ``split+1..L``
(if any) and the head. Token sizes travel as uncoded side information so
proportional attention and size-weighted pooling still work on the server.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .channels import Channel
from .jscc import JSCC
from ..model.macs import VitShape, gmacs
from ..model.merging_vit import MergeSchedule, apply_merging
from ..model.models import LoadedModel


@dataclass
class EdgeFrame:
    tokens: torch.Tensor            # (B, N, d) tokens after the split block
    sizes: torch.Tensor             # (B, N) patches each token holds
    symbols: torch.Tensor | None    # (B, N*m) complex channel symbols
    tokens_per_layer: list[int]     # patch tokens after each edge block

    @property
    def channel_uses(self) -> int:
        return 0 if self.symbols is None else int(self.symbols.shape[1])


class SemanticLink:
    """One model, its merge schedule and (optionally) JSCC pairs, one per rate, one of them active.

    ``jscc`` is a single pair or a mapping rate -> pair; ``rate`` picks the
    active one and can change between frames (the edge encodes with it; the
    server decodes each frame with the pair of the rate it arrived in).
    """

    def __init__(self, loaded: LoadedModel, jscc: JSCC | dict[int, JSCC] | None = None, split: int | None = None,
                 rate: int | None = None):
        self.loaded = loaded
        self.model = apply_merging(loaded.model)
        self.depth = len(self.model.blocks)
        self.split = self.depth if split is None else int(split)
        if not 0 < self.split <= self.depth:
            raise ValueError(f"split must lie in 1..{self.depth}, got {self.split}")
        self.codes: dict[int, JSCC] = ({} if jscc is None else dict(jscc) if isinstance(jscc, dict)
                                       else {jscc.m: jscc})
        self._rate = None
        if self.codes:
            self.rate = rate if rate is not None else min(self.codes)
        self.shape = VitShape.of(self.model)
        self.device = torch.device("cpu")
        self._compiled = None
        self._compiled_keys: set = set()

    @property
    def rates(self) -> list[int]:
        return sorted(self.codes)

    @property
    def rate(self) -> int | None:
        """Complex symbols per token of the active JSCC pair (None: no JSCC)."""
        return self._rate

    @rate.setter
    def rate(self, rate: int) -> None:
        if rate not in self.codes:
            raise KeyError(f"no JSCC code for rate {rate}; this link has {self.rates or 'none'}")
        self._rate = int(rate)

    @property
    def jscc(self) -> JSCC | None:
        return self.codes.get(self._rate)

    def to(self, device: torch.device | str) -> "SemanticLink":
        """Move model and JSCC; inputs are moved on the way in, results stay on ``device``."""
        self.device = torch.device(device)
        self.model.to(self.device)
        for code in self.codes.values():
            code.to(self.device)
        return self

    @property
    def schedule(self) -> MergeSchedule:
        return self.model.merge_schedule

    @schedule.setter
    def schedule(self, schedule: MergeSchedule) -> None:
        self.model.merge_schedule = schedule

    def use(self, conf, mode: str = "norm") -> "SemanticLink":
        """Run a front configuration from the next frame on: its merge schedule and its JSCC rate."""
        if self.codes and conf.rate not in self.codes:
            raise KeyError(f"configuration {conf.name} sends {conf.rate} symbols per token and this link has no "
                           f"JSCC code for that rate (it has {self.rates})")
        self.schedule = MergeSchedule.of(conf, mode=mode)
        if self.codes:
            self.rate = conf.rate
        return self

    def preprocess(self, images) -> torch.Tensor:
        return torch.stack([self.loaded.preprocess(img) for img in images]).to(self.device)

    def _edge_tensors(self, x: torch.Tensor, power: float):
        m = self.model
        tokens = m.run_blocks(m.embed(x), 0, self.split)
        symbols = self.jscc.encode(tokens, power) if self.jscc is not None else None
        return tokens, m.merge_state.sizes[..., 0], symbols

    def _compile_key(self, x: torch.Tensor, power: float):
        s = self.schedule
        return tuple(s.ratios or ()), s.mode, s.prop_attn, tuple(x.shape), float(power), self._rate

    @torch.no_grad()
    def compile_for(self, x: torch.Tensor, power: float = 1.0) -> float:
        """Graph-capture the edge (torch.compile) for the current ratio schedule and this input shape.

        With 64 tokens of width 128 a merge step is a handful of tiny ops whose
        Python and dispatch overhead costs about what merging saves; captured,
        the edge's time follows its MACs. Compiling takes seconds per schedule,
        so it happens here, ahead of time, never on a live frame: ``edge`` uses
        the captured graph only for schedules compiled this way. Outputs match
        eager up to float rounding. Returns the seconds it took.
        """
        if self.schedule.thresholds is not None:
            raise ValueError("threshold schedules have data-dependent token counts: they run eager")
        import time

        import torch._dynamo

        if self._compiled is None:
            # one compiled graph per schedule and shape; allow more than dynamo's default 8
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 256)
            self._compiled = torch.compile(self._edge_tensors, dynamic=False)
        t0 = time.perf_counter()
        self._compiled(x, power)
        self._compiled_keys.add(self._compile_key(x, power))
        return time.perf_counter() - t0

    @torch.no_grad()
    def edge(self, x: torch.Tensor, power: float = 1.0) -> EdgeFrame:
        if self.schedule.thresholds is not None and x.shape[0] > 1:
            raise ValueError("threshold schedules give each image its own token count: send one image per frame")
        m = self.model
        captured = (self._compiled is not None and not m.merge_state.trace_source
                    and self._compile_key(x, power) in self._compiled_keys)
        tokens, sizes, symbols = (self._compiled if captured else self._edge_tensors)(x, power)
        return EdgeFrame(tokens, sizes, symbols, list(m.merge_state.tokens_per_layer))

    def server(self, tokens: torch.Tensor, sizes: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """Finish the transformer from decoded tokens; differentiable (JSCC training uses it).

        ``padding`` (B, N) bool marks tokens that only fill a batch of frames with
        different token counts: they get size 0 (out of pooling) and are never attended to.
        """
        m = self.model
        st = m.merge_state
        st.sizes = sizes[..., None].to(tokens.dtype)
        st.source = None
        st.padding = None
        if padding is not None:
            st.sizes = st.sizes.masked_fill(padding[..., None], 0.0)
            st.padding = tokens.new_zeros(padding.shape + (1,)).masked_fill(padding[..., None], -math.inf)
        st.tokens_per_layer = []      # server blocks append theirs
        try:
            return m.finish(m.run_blocks(tokens, self.split, None))
        finally:
            st.padding = None

    @torch.no_grad()
    def decode(self, symbols: torch.Tensor, snr_db: torch.Tensor, sizes: torch.Tensor,
               rate: int | None = None) -> torch.Tensor:
        """Logits from received symbols, decoded with the pair for ``rate`` (default: the active one)."""
        to = self.device
        code = self.jscc if rate is None else self.codes.get(rate)
        if code is None:
            raise KeyError(f"no JSCC code for rate {rate}; this link has {self.rates or 'none'}")
        tokens = code.decode(symbols.to(to), snr_db.to(to))
        return self.server(tokens, sizes.to(to))

    @torch.no_grad()
    def classify(self, x: torch.Tensor, channel: Channel | None = None, snr_db: float | None = None,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, EdgeFrame]:
        """Logits for a batch: noiseless when ``channel`` is None, else through JSCC and the channel."""
        frame = self.edge(x)
        if channel is None or self.jscc is None:
            return self.server(frame.tokens, frame.sizes), frame
        rx = channel.transmit(frame.symbols, snr_db, generator)
        return self.decode(rx.symbols, rx.decoder_snr_db, frame.sizes), frame

    def gmacs(self, tokens_per_layer: list[int]) -> float:
        return gmacs(self.shape, tokens_per_layer)

    def input_values(self) -> int:
        """H*W*C of the model input, the denominator of the compression ratio."""
        c = self.model.patch_embed.proj.in_channels
        h, w = self.model.patch_embed.img_size
        return int(h * w * c)
