"""Deploy-your-own-model walk-through at real size, timed step by step (not a test).

    python benchmarks/own_model.py [--model vit_small_patch16_224] [--images DIR] [--work own_model_work]

Runs the README's commands as a team would, each as its own process:
``semcom-bundle create`` (timm ViT, own 10-class head), ``semcom-train-jscc``,
``semcom-optimize``, ``semcom-eval`` and ``semcom-bundle show``, and writes
the seconds each took plus what the bundle holds to
``benchmarks/results/own_model.json``. Without ``--images`` it writes an
ImageFolder of 320x240 RGB photos made from the embedded Fashion-MNIST items
(no network here, so no pretrained weights either: the head and backbone are
randomly initialised, and accuracy is near chance; the timings are what this
measures).
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def write_images(root: Path, n: int) -> Path:
    import cv2
    import numpy as np

    from semcom_ros.core.data.datasets import load_embedded_eval

    data = load_embedded_eval()
    for i in range(n):
        name = data.class_names[data.labels[i]].replace("/", "-")
        (root / name).mkdir(parents=True, exist_ok=True)
        item = cv2.resize(data.images[i], (240, 240), interpolation=cv2.INTER_LINEAR)
        frame = np.full((240, 320, 3), 60, np.uint8)
        frame[:, 40:280] = item[:, :, None]
        cv2.imwrite(str(root / name / f"{i:04d}.jpg"), frame)
    return root


def run(step: str, argv: list[str], timings: dict) -> str:
    print(f"$ {' '.join(argv)}", flush=True)
    t = time.monotonic()
    out = subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True)
    timings[step] = round(time.monotonic() - t, 1)
    if out.returncode != 0:
        raise SystemExit(f"{step} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vit_small_patch16_224")
    ap.add_argument("--images", type=Path, default=None, help="ImageFolder (default: written from the embedded set)")
    ap.add_argument("--n-images", type=int, default=400)
    ap.add_argument("--work", type=Path, default=Path("own_model_work"))
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "own_model.json")
    args = ap.parse_args()
    if args.work.exists():
        shutil.rmtree(args.work)
    images = args.images or write_images(args.work / "images", args.n_images)
    bundle = args.work / "bundle"
    timings: dict[str, float] = {}
    commands = {
        "create": ["semcom-bundle", "create", str(bundle), "--model", args.model, "--images", str(images)],
        "train_jscc": ["semcom-train-jscc", "--bundle", str(bundle), "--images", str(images), "--rates", "4",
                       "--steps", str(args.steps), "--batch", "16"],
        "optimize": ["semcom-optimize", "--bundle", str(bundle), "--images", str(images), "--trials",
                     str(args.trials), "--n-images", str(args.n_images // 2), "--random", "4"],
        "evaluate": ["semcom-eval", "--bundle", str(bundle), "--images", str(images), "--policy", "S2",
                     "--snr-sweep", "-10:20:10", "--json"],
    }
    outputs = {step: run(step, argv, timings) for step, argv in commands.items()}
    shown = json.loads(run("show", ["semcom-bundle", "show", str(bundle), "--json"], timings))
    result = {"machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
              "model": args.model, "images": str(images), "n_images": args.n_images,
              "weights": "random initialisation (no network for pretrained weights)",
              "seconds": timings, "commands": {k: " ".join(v) for k, v in commands.items()},
              "evaluation": json.loads(outputs["evaluate"].strip().splitlines()[-1]),
              "fronts": shown["fronts"], "complete": shown["complete"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"seconds": timings, "complete": shown["complete"]}))


if __name__ == "__main__":
    main()
