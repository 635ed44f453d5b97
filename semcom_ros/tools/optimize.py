"""semcom-optimize: multi-objective Bayesian optimisation of per-layer merge schedules.

    semcom-optimize --bundle my_bundle --images my_images/ --trials 150 --n-images 1000 \
        --storage sqlite:///front_study.db --plots plots/

optuna's GPSampler (Matern-5/2 ARD GP per objective, log-EHVI) searches the
per-layer ratios (or thresholds) on the first ``--n-images`` images of the
set. The non-dominated trials form the front; they, no merging, uniform
ratios 0.05..0.30 and random schedules are then measured again on the
held-out rest of the set (noiseless and over AWGN on an SNR grid), timed on
this CPU, and written with the operating points S1/S2/S3 into the bundle
(``front_m<rate>.yaml``; ``--out`` writes elsewhere, e.g. for the read-only
built-in bundle). The study lives in optuna storage, so an interrupted run
resumes.

``--objectives accuracy,latency`` makes the front hardware-aware: each trial's
edge time per frame is measured on this machine (single frames, interleaved
with the unmerged model, median of rounds; the spread is kept with the trial
and summarised in the front file), and S2 becomes the fastest configuration
above the accuracy floor.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..core.bundle.bundle import BundleError, card_entry, updating
from ..core.link.channels import Channel
from ..core.fronts.evaluation import evaluate, frame_times
from ..core.fronts.front_file import save_front
from ..core.model.merging_vit import MergeSchedule
from ..core.model.models import CheckpointError
from ..core.fronts.pareto import hypervolume_2d, pareto_indices
from .cli_common import add_bundle_args, add_images_arg, load_images, open_bundle, parse_args
from .front_content import front_data

OBJECTIVES = ("accuracy", "gmacs", "channel_uses", "latency")
KEYS = {"accuracy": "accuracy", "gmacs": "gmacs", "channel_uses": "channel_uses", "latency": "latency_ms"}
UNIFORM_RATIOS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)


def make_storage(spec: str | None):
    """None -> in memory; 'sqlite:///x.db' (any RDB URL) or a journal file path."""
    if spec is None:
        return None
    if "://" in spec:
        return spec
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    Path(spec).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(spec))


def schedule_of(params: dict, depth: int, space: str) -> MergeSchedule:
    vals = [float(params[f"l{i}"]) for i in range(depth)]
    return MergeSchedule(ratios=vals) if space == "ratios" else MergeSchedule(thresholds=vals)


def arguments() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bundle_args(ap)
    add_images_arg(ap)
    ap.add_argument("--n-images", type=int, default=1000, help="images the search evaluates")
    ap.add_argument("--final-images", type=int, default=None, help="held-out images for final numbers (default: rest)")
    ap.add_argument("--trials", type=int, default=150)
    ap.add_argument("--space", choices=("ratios", "thresholds"), default="ratios")
    ap.add_argument("--r-max", type=float, default=0.5)
    ap.add_argument("--tau-min", type=float, default=0.3)
    ap.add_argument("--objectives", default="accuracy,gmacs", help="two or three of " + ",".join(OBJECTIVES))
    ap.add_argument("--accuracy-floor", type=float, default=None, help="constraint: accuracy >= floor")
    ap.add_argument("--gmacs-cap", type=float, default=None, help="constraint: GMACs <= cap")
    ap.add_argument("--s2-floor", type=float, default=None, help="S2: accuracy floor (default: noiseless S1 - 2 pts)")
    ap.add_argument("--s3-cap", type=float, default=None, help="S3: GMACs cap (default: 50 %% of unmerged)")
    ap.add_argument("--s3-floor", type=float, default=None,
                    help="S3: accuracy floor (default: noiseless S1 - 10 pts, about APTM's S3 drop)")
    ap.add_argument("--random", type=int, default=10, help="random-schedule baselines")
    ap.add_argument("--no-warm-start", action="store_true",
                    help="ratios space: do not seed a new study with no merging and the uniform schedules")
    ap.add_argument("--snr-grid", default="-10,-5,0,5,10,15,20,25")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--storage", help="optuna storage: sqlite:///file.db, or a journal file path")
    ap.add_argument("--study-name", default=None)
    ap.add_argument("--out", type=Path, default=None, help="front YAML to write (default: into the bundle)")
    ap.add_argument("--plots", type=Path, default=None, help="folder for the PNG plots")
    return ap


@dataclass
class Setup:
    """What every stage needs: arguments, the link, search and held-out images, objectives."""

    args: argparse.Namespace
    link: object
    objectives: list[str]
    keys: list[str]
    snr_grid: list[float]
    xs: torch.Tensor
    ys: torch.Tensor
    xf: torch.Tensor
    yf: torch.Tensor

    @property
    def depth(self) -> int:
        return self.link.depth

    def measure(self, schedule: MergeSchedule, res) -> dict:
        """The objective values of one schedule on the search images; latency measured here and now."""
        point = {"accuracy": res.accuracy, "gmacs": res.gmacs, "channel_uses": res.channel_uses}
        if "latency_ms" in self.keys:
            t, ref = frame_times(self.link, self.xs[:10], [schedule, MergeSchedule(ratios=[0.0] * self.depth)])
            point.update(latency_ms=t.ms, latency_spread=t.spread, reference_ms=ref.ms)
        return point


def run_study(st: Setup, bundle_name: str):
    """Run (or resume) the optuna study until it holds ``--trials`` completed trials."""
    import optuna

    args, depth = st.args, st.depth
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.GPSampler(seed=args.seed, n_startup_trials=10)
    study = optuna.create_study(
        study_name=args.study_name or f"semcom-{bundle_name}-m{args.rate}-{args.space}-{'-'.join(st.objectives)}",
        storage=make_storage(args.storage), load_if_exists=True, sampler=sampler,
        directions=["maximize" if o == "accuracy" else "minimize" for o in st.objectives])

    def objective(trial: optuna.Trial):
        lo, hi = (0.0, args.r_max) if args.space == "ratios" else (args.tau_min, 1.0)
        params = {f"l{i}": trial.suggest_float(f"l{i}", lo, hi) for i in range(depth)}
        schedule = schedule_of(params, depth, args.space)
        res = evaluate(st.link, st.xs, st.ys, schedule)
        point = st.measure(schedule, res)
        for k in ("latency_spread", "reference_ms"):
            if k in point:
                trial.set_user_attr(k, point[k])
        if args.accuracy_floor is not None:
            trial.set_constraint("accuracy_floor", args.accuracy_floor - res.accuracy)
        if args.gmacs_cap is not None:
            trial.set_constraint("gmacs_cap", res.gmacs - args.gmacs_cap)
        return [point[k] for k in st.keys]

    if not study.trials and args.space == "ratios" and not args.no_warm_start:
        # the hand-made schedules are the first points the GP sees, so the front starts at least as good
        for r in (0.0,) + UNIFORM_RATIOS:
            study.enqueue_trial({f"l{i}": min(r, args.r_max) for i in range(depth)})
    done = completed(study)
    unmerged = evaluate(st.link, st.xs, st.ys, MergeSchedule(ratios=[0.0] * depth))
    ref = (0.0, unmerged.gmacs * 1.05)
    bar = tqdm(total=args.trials, initial=min(len(done), args.trials), desc="trials")
    while len(done) < args.trials:
        study.optimize(objective, n_trials=1)
        done = completed(study)
        pts = [dict(zip(st.keys, t.values)) for t in done]
        front = pareto_indices(pts, st.keys)
        bar.update(1)
        if "gmacs" in st.objectives:
            bar.set_postfix(front=len(front), hv=f"{hypervolume_2d([pts[i] for i in front], *ref):.4f}")
        else:
            bar.set_postfix(front=len(front))
    bar.close()
    return done


def completed(study) -> list:
    import optuna

    return [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


def baseline_schedules(st: Setup) -> dict[str, MergeSchedule]:
    """No merging, uniform ratios and random schedules: what the front has to beat."""
    rng = np.random.default_rng(st.args.seed)
    depth = st.depth
    out = {"none": MergeSchedule(ratios=[0.0] * depth)}
    out.update({f"uniform_{r:.2f}": MergeSchedule(ratios=[r] * depth) for r in UNIFORM_RATIOS})
    out.update({f"random_{i}": MergeSchedule(ratios=rng.uniform(0, st.args.r_max, depth).round(4).tolist())
                for i in range(st.args.random)})
    return out


def front_candidates(st: Setup, done: list, baselines: dict[str, MergeSchedule], search: dict):
    """The empirical front: non-dominated among everything evaluated, trials and baselines alike (METHOD eq. 17)."""
    args = st.args

    def allowed(p):
        return ((args.accuracy_floor is None or p["accuracy"] >= args.accuracy_floor)
                and (args.gmacs_cap is None or p["gmacs"] <= args.gmacs_cap))

    points = {name: st.measure(baselines[name], res) for name, res in search.items()}
    candidates = [(schedule_of(t.params, st.depth, args.space), dict(zip(st.keys, t.values)))
                  for t in done if _feasible(t)]
    candidates += [(baselines[n], p) for n, p in points.items() if allowed(p)]
    front_idx = pareto_indices([p for _, p in candidates], st.keys)
    front_idx.sort(key=lambda i: -candidates[i][1]["accuracy"])
    return [(f"p{k:02d}", candidates[i][0]) for k, i in enumerate(front_idx)]


def heldout_records(st: Setup, entries: list, search: dict) -> dict[str, dict]:
    """Every front point and baseline on the held-out images: accuracy over SNR, cost, time per frame."""
    channel = Channel("awgn")
    results = {}
    for name, sched in tqdm(entries, desc="held-out evaluation"):
        if name not in search:
            search[name] = evaluate(st.link, st.xs, st.ys, sched)
        results[name] = (sched, search[name],
                         evaluate(st.link, st.xf, st.yf, sched, st.snr_grid, channel, seed=st.args.seed))
    names = [n for n, _ in entries]
    full = dict(zip(names, frame_times(st.link, st.xf, [s for _, s in entries], rounds=3, frames=20, server=True)))
    edge = dict(zip(names, frame_times(st.link, st.xf, [s for _, s in entries], rounds=3, frames=20)))
    records = {}
    for name in names:
        sched, found, final = results[name]
        records[name] = {
            "name": name,
            "ratios": [round(r, 4) for r in sched.ratios] if sched.ratios is not None else None,
            "thresholds": [round(t, 4) for t in sched.thresholds] if sched.thresholds is not None else None,
            "accuracy": round(final.accuracy, 4),
            "accuracy_by_snr": {s: round(a, 4) for s, a in final.accuracy_by_snr.items()},
            "gmacs": round(final.gmacs, 5), "channel_uses": round(final.channel_uses, 2),
            "img_per_s": round(1e3 / full[name].ms, 1), "latency_ms": round(edge[name].ms, 3),
            "latency_spread": round(edge[name].spread, 3), "search_accuracy": round(found.accuracy, 4),
            "search_gmacs": round(found.gmacs, 5),
            "tokens_per_layer": [round(t, 1) for t in final.tokens_per_layer]}
    return records


def setup(args) -> tuple[Setup, object]:
    objectives = [o.strip() for o in args.objectives.split(",")]
    if not 2 <= len(objectives) <= 3 or set(objectives) - set(OBJECTIVES) or "accuracy" not in objectives:
        raise ValueError(f"--objectives: accuracy plus one or two of gmacs, channel_uses, latency; "
                         f"got {args.objectives}")
    snr_grid = [float(s) for s in args.snr_grid.split(",")]
    args.limit = None
    bundle = open_bundle(args)
    if args.out is None:
        bundle.writable()
    link = bundle.link(args.rate, args.device)
    x, y = load_images(args, link)
    if args.n_images >= len(y):
        raise ValueError(f"--n-images {args.n_images} leaves no held-out images of {len(y)}")
    end = None if args.final_images is None else args.n_images + args.final_images
    st = Setup(args, link, objectives, [KEYS[o] for o in objectives], snr_grid,
               x[:args.n_images], y[:args.n_images], x[args.n_images:end], y[args.n_images:end])
    return st, bundle


def main(argv: list[str] | None = None) -> int:
    args = parse_args(arguments(), argv)
    try:
        st, bundle = setup(args)
    except (ValueError, OSError, BundleError, CheckpointError) as exc:
        print(f"semcom-optimize: error: {exc}", file=sys.stderr)
        return 2
    done = run_study(st, bundle.name)
    baselines = baseline_schedules(st)
    search = {name: evaluate(st.link, st.xs, st.ys, sched) for name, sched in baselines.items()}
    entries = front_candidates(st, done, baselines, search) + list(baselines.items())
    records = heldout_records(st, entries, search)
    data = front_data(st, bundle.name, done, records, baselines)
    if args.out is None:
        with updating(bundle.path) as current:     # another rate's search may have written meanwhile
            out = current.save_front(args.rate, data)
            current.add_card(card_entry("front", rate=args.rate, data=args.images or "embedded",
                                        front_size=len(data["configurations"]),
                                        operating_points=data["operating_points"],
                                        hypervolume_heldout={k[:-8]: v for k, v in data["hypervolume"].items()
                                                             if k.endswith("_heldout")}))
            current.save()
    else:
        out = args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        save_front(data, out)
    if args.plots:
        from .plots import plot_front, plot_snr

        args.plots.mkdir(parents=True, exist_ok=True)
        plot_front(data, args.plots / f"front_{bundle.name}.png")
        plot_snr(data, args.plots / f"snr_{bundle.name}.png")
    print(json.dumps({"out": str(out), "front_size": len(data["configurations"]),
                      "operating_points": data["operating_points"], "hypervolume": data["hypervolume"]}))
    return 0


def _feasible(trial) -> bool:
    return all(c <= 0 for c in (trial.constraints or []))


if __name__ == "__main__":
    sys.exit(main())
