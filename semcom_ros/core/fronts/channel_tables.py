"""Accuracy by SNR on other channel models, for every configuration of a front.

A policy on a fading link must choose by the accuracy *averaged over the fast
fading* at the mean SNR it can follow (METHOD §7): that is this table. Frames
go through the edge once; each channel model and SNR then sees the same
symbols, with pilot CSI as the ROS link runs it (the camera's pilot records,
the server's least-squares estimate and equalisation).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..link.channel_models import LinkConditions
from ..link.channels import Channel
from ..link.edge_once import edge_batches, through_channel
from ..link.semantic_link import SemanticLink
from ..model.merging_vit import MergeSchedule

PILOT_RECORDS = 4      # the camera node's default pilot_records


@torch.no_grad()
def accuracy_tables(link: SemanticLink, x: torch.Tensor, labels: torch.Tensor,
                    configurations: Mapping[str, tuple[int, MergeSchedule]], channels: Sequence[str],
                    snrs: Sequence[float], conditions: LinkConditions | None = None, seed: int = 0,
                    batch: int = 250, progress=None) -> dict[str, dict[str, dict[float, float]]]:
    """{configuration: {channel: {snr: accuracy}}} for (rate, schedule) configurations on ``x``."""
    labels = torch.as_tensor(labels)
    out: dict[str, dict[str, dict[float, float]]] = {}
    for name, (rate, schedule) in configurations.items():
        link.rate, link.schedule = rate, schedule
        links = {ch: Channel(ch, csi="pilot", n_pilots=PILOT_RECORDS * rate, conditions=conditions or LinkConditions())
                 for ch in channels}
        correct = {ch: {float(s): 0 for s in snrs} for ch in channels}
        gen = torch.Generator().manual_seed(seed)
        for part in edge_batches(link, x, batch):
            yb = labels[part.frames]
            for ch, channel in links.items():
                for s in correct[ch]:
                    pred, _ = through_channel(link, part.edge, channel, s, gen)
                    correct[ch][s] += int((pred == yb).sum())
        out[name] = {ch: {s: c / len(labels) for s, c in table.items()} for ch, table in correct.items()}
        if progress is not None:
            progress.update(1)
    return out
