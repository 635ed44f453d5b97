"""What the trainers share: a warm-up + cosine schedule and a checkpoint that resumes exactly."""
from __future__ import annotations

import math
from pathlib import Path

import torch


def warmup_cosine(opt: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then a cosine decay to zero at ``total``."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / total))))


def save_state(path: Path, model, opt, sched, gen: torch.Generator, **progress) -> None:
    """Model, optimiser, schedule, random generator and the caller's progress (tensors and numbers only)."""
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                "gen": gen.get_state(), **progress}, path)


def resume_state(path: Path, model, opt, sched, gen: torch.Generator) -> dict | None:
    """Load a checkpoint written by ``save_state`` (no pickles: weights_only) and return its progress."""
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state.pop("model"))
    opt.load_state_dict(state.pop("opt"))
    sched.load_state_dict(state.pop("sched"))
    gen.set_state(state.pop("gen"))
    return state
