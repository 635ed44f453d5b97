"""Does time fall with MACs? Merged vs unmerged ViT-B/16 on the CPU, in one process.

    python benchmarks/merge_speed.py [--model vit_base_patch16_224] [--rounds 7]

Random weights (speed does not depend on them). Configurations are timed in
interleaved rounds so machine noise hits all of them alike; the median is
reported. ``efficiency = speedup x MAC_ratio`` (1.0: time falls exactly with
MACs). ``merge_share`` is the fraction of block time spent in matching and
merging. Prints one JSON line per (batch, schedule) and writes them all to
benchmarks/results/merge_speed.json.

First, the shipped default model as the camera node runs it: one frame
(batch 1), 1 torch thread, edge = ViT + JSCC encoder, for no merging and the
front's S1/S2/S3, eager and graph-captured (``SemanticLink.compile_for``, the
camera's ``compile_configurations``), all in interleaved rounds; printed as
one JSON line ``{"default_model": {...}, "default_model_eager": {...},
"default_model_ideal": {...}}``. "ideal" is the captured edge with a
zero-cost merge: the same token counts after every block, reached by
dropping tokens (no matching, no merging). Its efficiency is the most any
merge implementation can reach on this machine; below it, the gap is the
merge's own cost, above 0.85 only if the hardware's matmuls scale with tokens.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import timm
import torch

import semcom_ros.core.model.merging_vit as mv
from semcom_ros.core.model.macs import VitShape, gmacs
from semcom_ros.core.model.merging_vit import MergeSchedule, apply_merging


class Stopwatch:
    """Accumulates wall time of wrapped calls and of whole blocks."""

    def __init__(self):
        self.merge = 0.0
        self.blocks = 0.0

    def wrap(self, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.merge += time.perf_counter() - t
        return timed


@dataclass
class _Dropped:
    merged: int


def _match_nothing(metric, prefix, r=None, threshold=None):
    return _Dropped(int(r or 0))


def _drop_tokens(x, sizes, m, mode="norm", source=None):
    keep = x.shape[1] - m.merged
    return x[:, :keep], sizes[:, :keep], None


@contextmanager
def zero_cost_merge():
    """Merging replaced by dropping the last r patch tokens: same shapes everywhere, no merge work.

    Module-level functions: dynamo guards on their identity, new ones each time would recompile.
    """
    saved = mv.bipartite_match, mv.merge_tokens
    mv.bipartite_match, mv.merge_tokens = _match_nothing, _drop_tokens
    try:
        yield
    finally:
        mv.bipartite_match, mv.merge_tokens = saved


def default_model_rows(rounds: int = 40, reps: int = 20) -> dict:
    """ms per frame, speedup, efficiency of the default model's edge for none/S1/S2/S3: eager, captured, ideal."""
    import numpy as np

    from semcom_ros.tools.cli_common import bundle_images
    from semcom_ros.core.bundle.bundle import load_bundle

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    bundle = load_bundle("default")
    link, ideal, front = bundle.link(4), bundle.link(4), bundle.front(4)
    # its own code object, so dynamo keeps its graphs in a cache apart from the real edge's
    ideal._compiled = torch.compile(lambda x, power: ideal._edge_tensors(x, power), dynamic=False)
    x = link.preprocess([bundle_images(bundle, 1).images[0]])
    depth = link.depth
    confs = {"none": ([0.0] * depth, gmacs(link.shape))}
    confs.update({p: (front.get(p).ratios, front.get(p).gmacs) for p in ("S1", "S2", "S3")})
    compile_s = {}
    for name, (ratios, _) in confs.items():
        link.schedule = ideal.schedule = MergeSchedule(ratios=ratios)
        compile_s[name] = round(link.compile_for(x), 1)
        with zero_cost_merge():
            ideal.compile_for(x)
            dropped = ideal.edge(x).tokens.shape
        assert dropped == link.edge(x).tokens.shape
    keys = set(link._compiled_keys)
    modes = ("eager", "compiled", "ideal")
    times = {(name, mode): [] for name in confs for mode in modes}
    with torch.no_grad():           # as the camera runs it (inference_mode would capture a second set of graphs)
        for rnd in range(rounds + 1):
            for name, (ratios, _) in confs.items():
                for mode in modes:
                    run = ideal if mode == "ideal" else link
                    run.schedule = MergeSchedule(ratios=ratios)
                    link._compiled_keys = set() if mode == "eager" else keys
                    with zero_cost_merge() if mode == "ideal" else nullcontext():
                        t = time.perf_counter()
                        for _ in range(reps):
                            run.edge(x)
                        dt = (time.perf_counter() - t) / reps
                    if rnd:
                        times[(name, mode)].append(dt)
    torch.set_num_threads(threads)
    out = {}
    for mode in modes:
        base = float(np.median(times[("none", mode)]))
        rows = {}
        for name, (_, g) in confs.items():
            ms = float(np.median(times[(name, mode)]))
            rows[name] = {"gmacs": round(g, 4), "ms": round(1e3 * ms, 3), "speedup": round(base / ms, 3),
                          "efficiency": round(base / ms * g / confs["none"][1], 3)}
            if mode == "compiled":
                rows[name]["compile_s"] = compile_s[name]
        out["default_model" + {"compiled": "", "eager": "_eager", "ideal": "_ideal"}[mode]] = rows
    for name in confs:
        out["default_model"][name]["ideal_efficiency"] = out["default_model_ideal"][name]["efficiency"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vit_base_patch16_224")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--ratios", default="0.1,0.2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "merge_speed.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    default = default_model_rows()         # before the stopwatch wraps the merge functions
    print(json.dumps(default), flush=True)

    model = apply_merging(timm.create_model(args.model, pretrained=False).eval())
    shape, depth = VitShape.of(model), len(model.blocks)
    watch = Stopwatch()
    mv.bipartite_match = watch.wrap(mv.bipartite_match)
    mv.merge_tokens = watch.wrap(mv.merge_tokens)
    starts = {}
    for blk in model.blocks:
        blk.register_forward_pre_hook(lambda m, a: starts.__setitem__(m, time.perf_counter()))
        blk.register_forward_hook(
            lambda m, a, o: setattr(watch, "blocks", watch.blocks + time.perf_counter() - starts[m]))

    schedules = {"none": 0.0, **{f"uniform_{r}": float(r) for r in args.ratios.split(",")}}
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        x = torch.randn(batch, 3, *model.patch_embed.img_size)
        times = {k: [] for k in schedules}
        merge_t = {k: 0.0 for k in schedules}
        block_t = {k: 0.0 for k in schedules}
        tokens = {}
        with torch.inference_mode():
            for rnd in range(args.rounds + 1):          # round 0 warms up
                for name, r in schedules.items():
                    model.merge_schedule = MergeSchedule.uniform(r, depth)
                    watch.merge = watch.blocks = 0.0
                    t = time.perf_counter()
                    model(x)
                    dt = time.perf_counter() - t
                    tokens[name] = list(model.merge_state.tokens_per_layer)
                    if rnd:
                        times[name].append(dt)
                        merge_t[name] += watch.merge
                        block_t[name] += watch.blocks
        base_t = statistics.median(times["none"])
        base_macs = gmacs(shape)
        for name in schedules:
            t = statistics.median(times[name])
            speedup = base_t / t
            mac_ratio = gmacs(shape, tokens[name]) / base_macs
            row = {"model": args.model, "batch": batch, "schedule": name, "threads": args.threads,
                   "img_per_s": round(batch / t, 2), "speedup": round(speedup, 3),
                   "gmacs": round(gmacs(shape, tokens[name]), 3), "mac_ratio": round(mac_ratio, 3),
                   "efficiency": round(speedup * mac_ratio, 3),
                   "merge_share": round(merge_t[name] / block_t[name], 4) if block_t[name] else 0.0}
            print(json.dumps(row), flush=True)
            rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                                    "torch": torch.__version__, "timm": timm.__version__, **default,
                                    "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
