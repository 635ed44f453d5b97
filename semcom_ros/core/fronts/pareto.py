"""Pareto fronts, hypervolume and the named operating points (APTM eq. 17, Table I).

Points are dicts with at least ``accuracy`` (maximise) and ``gmacs``
(minimise); ``channel_uses`` (minimise) joins when asked for.
"""
from __future__ import annotations

from typing import Sequence

SENSES = {"accuracy": +1, "gmacs": -1, "channel_uses": -1, "img_per_s": +1, "latency_ms": -1}


def dominates(a: dict, b: dict, objectives: Sequence[str]) -> bool:
    """a is no worse than b in every objective and better in one."""
    better = False
    for k in objectives:
        va, vb = SENSES[k] * a[k], SENSES[k] * b[k]
        if va < vb:
            return False
        better |= va > vb
    return better


def pareto_indices(points: Sequence[dict], objectives: Sequence[str] = ("accuracy", "gmacs")) -> list[int]:
    """Indices of the non-dominated points (duplicates keep their first copy)."""
    keep = []
    for i, p in enumerate(points):
        if any(dominates(q, p, objectives) for q in points):
            continue
        if any(all(points[j][k] == p[k] for k in objectives) for j in keep):
            continue
        keep.append(i)
    return keep


def hypervolume_2d(points: Sequence[dict], ref_accuracy: float, ref_gmacs: float) -> float:
    """Area dominated in the (accuracy up, GMACs down) plane, bounded by the reference point."""
    pts = sorted({(p["gmacs"], p["accuracy"]) for p in points
                  if p["gmacs"] < ref_gmacs and p["accuracy"] > ref_accuracy})
    area, best_acc = 0.0, ref_accuracy
    # sweep from cheap to expensive; each step adds the strip up to the next cost
    for i, (g, a) in enumerate(pts):
        best_acc = max(best_acc, a)
        nxt = pts[i + 1][0] if i + 1 < len(pts) else ref_gmacs
        area += (nxt - g) * (best_acc - ref_accuracy)
    return area


def operating_points(points: Sequence[dict], accuracy_floor: float, gmacs_cap: float,
                     s3_accuracy_floor: float | None = None, s2_cost: str = "gmacs") -> dict[str, int | None]:
    """Pick S1, S2 and S3 from a front.

    S1 is the most accurate; S2 the cheapest (``s2_cost``: MACs, or measured
    latency) with accuracy >= floor; S3 the fastest with MACs <= cap.

    ``s3_accuracy_floor`` keeps S3 usable where throughput does not follow MACs
    (small models on a CPU): without it the fastest point can be a near-useless one.
    """
    def best(cands, key):
        return min(cands, key=key) if cands else None

    idx = range(len(points))
    s1 = best(list(idx), lambda i: (-points[i]["accuracy"], points[i]["gmacs"]))
    s2 = best([i for i in idx if points[i]["accuracy"] >= accuracy_floor],
              lambda i: (points[i][s2_cost], -points[i]["accuracy"]))
    s3 = best([i for i in idx if points[i]["gmacs"] <= gmacs_cap
               and (s3_accuracy_floor is None or points[i]["accuracy"] >= s3_accuracy_floor)],
              lambda i: (-points[i].get("img_per_s", 0.0), -points[i]["accuracy"]))
    return {"S1": s1, "S2": s2, "S3": s3}
