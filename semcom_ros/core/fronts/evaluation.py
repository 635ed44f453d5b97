"""Accuracy, MACs and channel uses of one merge schedule over a labelled image set; frame times."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ..data.datasets import ImageSet
from ..link.channels import Channel
from ..link.edge_once import edge_batches, through_channel
from ..link.semantic_link import SemanticLink
from ..model.merging_vit import MergeSchedule


@dataclass
class EvalResult:
    n_images: int
    accuracy: float                                   # noiseless
    accuracy_by_snr: dict[float, float] = field(default_factory=dict)
    gmacs: float = 0.0                                # mean per image
    channel_uses: float = 0.0                         # mean complex data symbols per frame
    tokens_sent: float = 0.0                          # mean tokens per frame (prefix included)
    tokens_per_layer: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"n_images": self.n_images, "accuracy": round(self.accuracy, 4),
                "accuracy_by_snr": {float(k): round(v, 4) for k, v in self.accuracy_by_snr.items()},
                "gmacs": round(self.gmacs, 5), "channel_uses": round(self.channel_uses, 2),
                "tokens_sent": round(self.tokens_sent, 2),
                "tokens_per_layer": [round(t, 2) for t in self.tokens_per_layer]}


def preprocess_set(link: SemanticLink, data: ImageSet) -> torch.Tensor:
    return link.preprocess(list(data.images))


@torch.no_grad()
def evaluate(link: SemanticLink, x: torch.Tensor, labels: torch.Tensor, schedule: MergeSchedule,
             snrs: Sequence[float] = (), channel: Channel | None = None, batch: int | None = None,
             seed: int = 0) -> EvalResult:
    """Run every image once through the edge and decode it once per SNR."""
    link.schedule = schedule
    if batch is None:      # about 16k tokens per batch: 250 images of 64 patches, 80 of 196
        batch = max(8, 16000 // link.shape.num_patches)
    channel = channel or Channel("awgn")
    gen = torch.Generator().manual_seed(seed)
    correct, correct_snr = 0, {float(s): 0 for s in snrs}
    macs_sum = uses_sum = sent_sum = 0.0
    layer_sum = torch.zeros(link.depth)
    labels = torch.as_tensor(labels)
    for part in edge_batches(link, x, batch):
        frame, yb = part.edge, labels[part.frames]
        n = len(yb)
        logits = link.server(frame.tokens, frame.sizes)
        counts = frame.tokens_per_layer + list(link.model.merge_state.tokens_per_layer)
        correct += int((logits.argmax(-1).cpu() == yb).sum())
        macs_sum += link.gmacs(counts) * n
        layer_sum += torch.tensor(counts, dtype=torch.float32) * n
        sent_sum += frame.tokens.shape[1] * n
        uses_sum += frame.channel_uses * n
        if link.jscc is not None:
            for snr in correct_snr:
                pred, _ = through_channel(link, frame, channel, snr, gen)
                correct_snr[snr] += int((pred == yb).sum())
    total = len(labels)
    return EvalResult(total, correct / total, {s: c / total for s, c in correct_snr.items()} if link.jscc else {},
                      macs_sum / total, uses_sum / total, sent_sum / total, (layer_sum / total).tolist())


@dataclass
class FrameTime:
    ms: float            # median over rounds of the mean time per frame
    spread: float        # (75th - 25th percentile) / median over the rounds: the noise this machine showed


@torch.no_grad()
def frame_times(link: SemanticLink, x: torch.Tensor, schedules: Sequence[MergeSchedule], rounds: int = 5,
                frames: int = 10, server: bool = False) -> list[FrameTime]:
    """Single-frame time of each schedule (edge, or edge + server), in interleaved rounds.

    Interleaving makes machine noise hit every schedule alike; round 0 warms up.
    """
    per_round: list[list[float]] = [[] for _ in schedules]
    for rnd in range(rounds + 1):
        for i, schedule in enumerate(schedules):
            link.schedule = schedule
            t = time.perf_counter()
            for f in range(frames):
                frame = link.edge(x[f % len(x):f % len(x) + 1])
                if server:
                    link.server(frame.tokens, frame.sizes)
            if rnd:
                per_round[i].append(1e3 * (time.perf_counter() - t) / frames)
    out = []
    for values in per_round:
        q25, med, q75 = np.percentile(values, [25, 50, 75])
        out.append(FrameTime(float(med), float((q75 - q25) / med)))
    return out
