"""Plots the tools write: a front against its baselines, accuracy vs SNR, the demo's frames."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib's pyplot on the headless Agg backend (nodes and CI have no screen)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_front(data: dict, path: Path) -> None:
    """Accuracy vs GMACs: Pareto front, uniform and random baselines (APTM Fig. 2 analogue)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    front = sorted(data["configurations"], key=lambda c: c["gmacs"])
    ax.plot([c["gmacs"] for c in front], [100 * c["accuracy"] for c in front], "o-", label="Pareto front (BO)")
    uni = sorted([b for b in data["baselines"] if b["name"].startswith("uniform") or b["name"] == "none"],
                 key=lambda c: c["gmacs"])
    ax.plot([c["gmacs"] for c in uni], [100 * c["accuracy"] for c in uni], "s--", label="uniform (ToMe-style)")
    rnd = [b for b in data["baselines"] if b["name"].startswith("random")]
    ax.scatter([c["gmacs"] for c in rnd], [100 * c["accuracy"] for c in rnd], marker="x", color="grey",
               label="random schedules")
    for op, name in data["operating_points"].items():
        c = next((c for c in front if c["name"] == name), None)
        if c:
            ax.annotate(op, (c["gmacs"], 100 * c["accuracy"]), textcoords="offset points", xytext=(5, -12))
    finish(plt, fig, ax, path, "GMACs per image",
           f"top-1 accuracy (%), {data['study']['heldout_images']} held-out images",
           f"{data['model']}: merge schedules")


def plot_snr(data: dict, path: Path) -> None:
    """Accuracy vs SNR for S1, S2, S3 and no merging (APTM Fig. 3 analogue)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    by_name = {c["name"]: c for c in data["configurations"] + data["baselines"]}
    curves = [(f"{op} ({name})", by_name[name]) for op, name in data["operating_points"].items() if name]
    curves.append(("no merging", by_name["none"]))
    for label, c in curves:
        snrs = sorted(float(s) for s in c["accuracy_by_snr"])
        accs = [100 * c["accuracy_by_snr"][s] for s in snrs]
        ax.plot(snrs, accs, "o-", label=f"{label}, {c['gmacs']:.4f} GMACs")
    finish(plt, fig, ax, path, "SNR (dB), AWGN", "top-1 accuracy (%)",
           f"{data['model']}, JSCC {data['rate']} symbols/token")


def finish(plt, fig, ax, path: Path, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def frame_sheet(samples: list[tuple[dict, "np.ndarray"]], path: Path, per_row: int = 4) -> None:
    """What the camera saw beside what the server said, the configuration and the link, for a few frames."""
    plt = pyplot()
    cols = min(per_row, len(samples))
    rows = -(-len(samples) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (row, image) in zip(axes.flat, samples):
        ax.imshow(image)
        truth = row["truth"] or "none (no item at the centre)"
        ax.set_title(f"t {row['t']:.0f} s, said: {row['said']}\ntruth: {truth}\n{row['conf']}, link "
                     f"{row['snr']:.1f} dB", fontsize=8,
                     color={True: "tab:green", False: "tab:red", None: "dimgrey"}[row["correct"]])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
