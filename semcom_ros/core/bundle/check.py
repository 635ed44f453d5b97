"""A bundle checked as a whole: every part loaded, and what does not fit named (``semcom-bundle check``)."""
from __future__ import annotations

from ..link.channel_models import CHANNELS
from ..fronts.front_file import table_problems


def bundle_problems(bundle) -> list[str]:
    """Everything that does not fit, so the user sees it all at once (empty: all parts fit)."""
    problems = []
    try:
        loaded = bundle.load_model()
    except Exception as exc:  # noqa: BLE001 - report, don't stop, so the user sees everything at once
        return [f"model: {exc}"]
    dim, depth = loaded.model.embed_dim, len(loaded.model.blocks)
    tokens = loaded.model.patch_embed.num_patches
    for rate in bundle.rates:
        try:
            bundle.load_jscc(rate, dim)
            split = bundle.jscc_entry(rate)["split"]
            if not 0 < split <= depth:
                problems.append(f"JSCC rate {rate}: split {split} outside 1..{depth}")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"JSCC rate {rate}: {exc}")
    for rate in bundle.front_rates:
        try:
            front = bundle.rate_front(rate, depth, tokens)
            problems += [f"front rate {rate}: {p}" for p in table_problems(front, CHANNELS)]
        except Exception as exc:  # noqa: BLE001
            problems.append(f"front rate {rate}: {exc}")
    if bundle.has_joint_front:
        try:
            joint = bundle.joint_front(depth, tokens)
            problems += [f"joint front: {p}" for p in table_problems(joint, CHANNELS)]
            missing = sorted(set(joint.rates) - set(bundle.rates))
            if missing:
                problems.append(f"joint front: configurations at rates {missing} but no JSCC code for them")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"joint front: {exc}")
    return problems
