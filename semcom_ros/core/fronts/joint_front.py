"""The joint front: every rate's Pareto configurations in one set.

A policy can then trade merging against JSCC rate (AST adapts both knobs per time slot).

A configuration is a merge schedule *and* a rate: ``p06@m4`` is configuration p06 of
the rate-4 front. The joint set keeps every rate front's configuration that no other
configuration beats at once in accuracy at every SNR of the grid, channel uses and
edge cost (measured latency when every front has it, else GMACs). Operating points
over the joint set (``JOINT_RULES``):

- S1: highest accuracy averaged over the SNR grid (the most robust configuration);
- S2: fewest channel uses with that average >= S1's - ``s2_drop``;
- S3: fastest edge (latency, else GMACs) with channel uses <= S2's and average
  accuracy >= S1's - ``s3_drop``.
"""
from __future__ import annotations

from typing import Mapping

from .front_file import FORMAT_VERSION, parse_front, rate_name

JOINT_RULES = {"S2_drop": 0.02, "S3_drop": 0.10}


def mean_accuracy(conf: dict, grid: list[float]) -> float:
    """Accuracy averaged over the SNR grid (noiseless accuracy when there is no grid)."""
    by_snr = {float(k): v for k, v in (conf.get("accuracy_by_snr") or {}).items()}
    values = [by_snr[s] for s in grid if s in by_snr]
    return sum(values) / len(values) if values else conf["accuracy"]


def _dominates(a: tuple, b: tuple) -> bool:
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def joint_front_data(fronts: Mapping[int, dict], files: Mapping[int, str] | None = None,
                     s2_drop: float = JOINT_RULES["S2_drop"], s3_drop: float = JOINT_RULES["S3_drop"]) -> dict:
    """The joint front file's content from the rate fronts' contents (rate -> front data)."""
    if len(fronts) < 1:
        raise ValueError("a joint front needs at least one rate front")
    parsed = {rate: parse_front(data, f"front for rate {rate}") for rate, data in fronts.items()}
    depths = {f.depth for f in parsed.values()}
    if len(depths) != 1:
        raise ValueError(f"the rate fronts are for different depths {sorted(depths)}")
    grids = [set(map(float, data.get("snr_grid") or [])) for data in fronts.values()]
    grid = sorted(set.intersection(*grids))
    cost = "latency_ms" if all(c.get("latency_ms", 0) > 0 for d in fronts.values() for c in d["configurations"]) \
        else "gmacs"
    confs, vectors = [], []
    for rate in sorted(fronts):
        for raw, conf in zip(fronts[rate]["configurations"], parsed[rate].configurations):
            confs.append({**raw, "name": rate_name(raw["name"], rate), "rate": rate})
            vectors.append(tuple(conf.accuracy_by_snr.get(s, 0.0) for s in grid)
                           + (conf.accuracy, -conf.channel_uses, -getattr(conf, cost)))
    keep = [c for c, v in zip(confs, vectors) if not any(_dominates(w, v) for w in vectors)]
    robust = [mean_accuracy(c, grid) for c in keep]
    for c, a in zip(keep, robust):
        c["mean_accuracy"] = round(a, 4)
    s1 = max(range(len(keep)), key=lambda i: (robust[i], -keep[i]["channel_uses"]))
    s2_ok = [i for i in range(len(keep)) if robust[i] >= robust[s1] - s2_drop]
    s2 = min(s2_ok, key=lambda i: (keep[i]["channel_uses"], keep[i][cost]))
    s3_ok = [i for i in range(len(keep)) if robust[i] >= robust[s1] - s3_drop
             and keep[i]["channel_uses"] <= keep[s2]["channel_uses"]]
    s3 = min(s3_ok, key=lambda i: (keep[i][cost], keep[i]["channel_uses"]))
    any_front = parsed[min(parsed)]
    data = {
        "format": FORMAT_VERSION, "model": any_front.model, "rates": sorted(fronts), "depth": any_front.depth,
        "kind": "joint",
        "sources": {rate: {"file": (files or {}).get(rate), "objectives": fronts[rate].get("objectives"),
                           "trials": (fronts[rate].get("study") or {}).get("trials"),
                           "configurations": len(fronts[rate]["configurations"])} for rate in sorted(fronts)},
        "snr_grid": grid, "channel": fronts[min(fronts)].get("channel", "awgn"),
        "operating_point_rules": {"S1": "highest accuracy averaged over snr_grid",
                                  "S2": f"fewest channel uses, average accuracy >= S1 - {s2_drop}",
                                  "S3": f"lowest {cost} with channel uses <= S2's, average accuracy >= S1 - {s3_drop}",
                                  "S2_drop": s2_drop, "S3_drop": s3_drop, "cost": cost},
        "operating_points": {"S1": keep[s1]["name"], "S2": keep[s2]["name"], "S3": keep[s3]["name"]},
        "configurations": sorted(keep, key=lambda c: (c["rate"], -c["accuracy"], c["channel_uses"])),
    }
    for key in ("split", "tokens"):
        if key in fronts[min(fronts)]:
            data[key] = fronts[min(fronts)][key]
    parse_front(data, "joint front")        # never hand out a file the runtime would refuse
    return data
