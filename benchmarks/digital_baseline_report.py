"""The digital baseline's tables and figure (benchmarks/digital_baseline.py writes the report)."""
from __future__ import annotations

from pathlib import Path

from semcom_ros.core.link.digital_link import CODES

COLUMNS = [("semantic_cap", "semantic (cap)"), ("semantic_lyapunov", "semantic (Lyapunov)")] + [
    (f"{what}_{code}", f"{what} {code}") for what in ("image", "label") for code in CODES]
ROBOT_COLUMNS = [(f"label_robot_{code}", f"label (robot-size model) {code}") for code in CODES]


def columns(report: dict) -> list[tuple[str, str]]:
    return COLUMNS + (ROBOT_COLUMNS if "robot_bundle" in report else [])


def print_tables(report: dict) -> None:
    COLUMNS = columns(report)
    for channel, res in report["channels"].items():
        print(f"\n{channel}: accuracy (%) at equal channel uses per frame (a lost frame is wrong)")
        print("| SNR dB | uses | " + " | ".join(name for _, name in COLUMNS) + " |")
        print("|---" * (len(COLUMNS) + 2) + "|")
        for r in res["by_snr_and_budget"]:
            print(f"| {r['snr_db']:g} | {r['channel_uses']:g} | "
                  + " | ".join(f"{100 * r[key]:.1f}" for key, _ in COLUMNS) + " |")
        key = next(k for k in res if k.startswith("channel_uses_for"))
        print(f"\n{channel}: channel uses per frame to reach {report['target']:.0%}")
        reach = ["semantic"] + [key for key, _ in COLUMNS[2:]]
        print("| SNR dB | " + " | ".join(name.replace("_", " ") for name in reach) + " |")
        print("|---" * (len(reach) + 1) + "|")
        for r in res[key]:
            print(f"| {r['snr_db']:g} | " + " | ".join("never" if r[s] is None else f"{r[s]:g}" for s in reach) + " |")


def plot(report: dict, out: Path) -> None:
    from semcom_ros.tools.plots import pyplot

    plt = pyplot()
    channels, budgets = list(report["channels"]), report["budgets"]
    fig, axes = plt.subplots(len(channels), len(budgets), figsize=(4.2 * len(budgets), 3.4 * len(channels)),
                             sharey=True, squeeze=False)
    styles = {"cap": "-", "lyapunov": ":", "ideal": "-", "practical": "--", "robust": "-."}
    colours = {"semantic": "C0", "image": "C1", "label": "C2", "label_robot": "C3"}
    lines = [(key, name, colours[key.rsplit("_", 1)[0] if key.startswith("label_robot") else key.split("_")[0]],
              styles[key.rsplit("_", 1)[1] if key.startswith("label") else key.split("_")[1]])
             for key, name in columns(report)]
    for i, channel in enumerate(channels):
        rows = report["channels"][channel]["by_snr_and_budget"]
        for j, n in enumerate(budgets):
            ax = axes[i][j]
            sel = [r for r in rows if r["channel_uses"] == n]
            for key, name, colour, style in lines:
                ax.plot([r["snr_db"] for r in sel], [100 * r[key] for r in sel], style, color=colour, label=name,
                        marker="o", ms=3)
            ax.set_title(f"{channel}, {n:g} channel uses per frame", fontsize=9)
            ax.set_xlabel("mean SNR (dB)")
            ax.grid(alpha=0.3)
        axes[i][0].set_ylabel("accuracy (%)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
