#!/usr/bin/env bash
# Re-make the built-in bundle and re-measure, in one run, every figure that depends on it: the scene
# ViT and the robot-size model (semcom-train-scenes), the split choice at equal robot compute, the JSCC
# codes, the fronts, the joint front and Table I analogue, accuracy vs SNR, the SNR table, the adaptive
# and fleet budget benchmarks (AWGN and the moving robot's fading), the moving-link comparison, the
# digital and video baselines and the demo. Many hours on a 2-core CPU; the work lives in
# remeasure_work/ (SEMCOM_REMEASURE_WORK) and train_work/, so an interrupted run resumes where it stopped.
#   scripts/remeasure.sh                 # everything
#   scripts/remeasure.sh tables          # only the stages named:
#     model robot splits codes fronts channel-tables install tables
# Stages: model (the scene ViT, resumable), robot (the robot-size model), splits (rate-4 codes after
# blocks 1, 2, 3 and benchmarks/equal_compute.py: what the split choice rests on), codes (rates 2/4/8 at
# SEMCOM_SPLIT, trained on a channel mixture), fronts (the optuna searches, on the bundle's evaluation
# scenes), channel-tables (every configuration's accuracy by SNR on every channel model), install (the
# bundle becomes the built-in default), tables.
set -euo pipefail

main() {
  local root work bin
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  bash "$root/scripts/setup_venv.sh"
  cd "$root"
  bin="$root/.venv/bin"
  work="${SEMCOM_REMEASURE_WORK:-$root/remeasure_work}"
  local stages="${*:-model robot splits codes fronts channel-tables install tables}"
  local split="${SEMCOM_SPLIT:-3}"      # chosen from the splits stage's table (docs/results.md)
  mkdir -p "$work" benchmarks/results train_work/scenes
  date -u +"remeasure started %Y-%m-%d %H:%M UTC"

  # the trained models in checkpoints/ are reused unless SEMCOM_RETRAIN=1 (hours of training)
  local arch
  for arch in model robot; do
    [[ " $stages " == *" $arch "* ]] && [ ! -f "$work/$arch/bundle.yaml" ] || continue
    if [ -f "checkpoints/${arch/model/scene}_model/bundle.yaml" ] && [ -z "${SEMCOM_RETRAIN:-}" ]; then
      cp -r "checkpoints/${arch/model/scene}_model" "$work/$arch"
    else
      "$bin/semcom-train-scenes" --arch "${arch/model/scene}" --work "train_work/scenes/run_$arch" \
        --bundle "$work/$arch"
    fi
  done

  if [[ " $stages " == *" splits "* ]]; then
    local pairs=""
    for s in 1 2 3; do
      if [ ! -f "$work/split$s/jscc_m4.safetensors" ]; then
        rm -rf "$work/split$s"
        "$bin/semcom-bundle" copy "$work/model" "$work/split$s"
        "$bin/semcom-train-jscc" --bundle "$work/split$s" --images scenes-train --rates 4 --split "$s" --steps 600
      fi
      pairs="$pairs${pairs:+,}$s:$work/split$s"
    done
    "$bin/python" benchmarks/equal_compute.py --split-bundles "$pairs" --robot-bundle "${work#$root/}/robot" \
      | tee "$work/equal_compute.md"
  fi

  if [[ " $stages " == *" codes "* ]]; then
    # a fresh copy of the scene model receives codes trained on a channel mixture at the chosen split
    rm -rf "$work/default"
    if [ -f "checkpoints/scene_split$split/bundle.yaml" ] && [ -z "${SEMCOM_RETRAIN:-}" ]; then
      cp -r "checkpoints/scene_split$split" "$work/default"     # the committed codes (an hour of training)
    else
      "$bin/semcom-bundle" copy "$work/model" "$work/default"
      "$bin/semcom-train-jscc" --bundle "$work/default" --images scenes-train --rates 2,4,8 --split "$split" \
        --steps 1500
    fi
    # the card says why this split: the splits stage's measurement
    "$bin/python" - "$work/default" "$split" benchmarks/results/equal_compute.json <<'PY'
import json, sys
from semcom_ros.core.bundle.bundle import card_entry, load_bundle
bundle, split, report = load_bundle(sys.argv[1]).writable(), int(sys.argv[2]), json.load(open(sys.argv[3]))
rows = {name: {"robot_mmacs": round(r["robot_mmacs"], 1), "robot_ms": round(r["robot_ms"], 2),
               "channel_uses": r["channel_uses"], "accuracy": [round(a, 4) for a in r["accuracy"]]}
        for name, r in report["rows"].items()}
bundle.add_card(card_entry("split", command="scripts/remeasure.sh codes", chosen=split,
                           measured_by=report["run"]["command"], date_measured=report["run"]["date"],
                           snrs_db=report["snrs_db"], channel=report["channel"], rows=rows))
bundle.save()
PY
  fi

  if [[ " $stages " == *" fronts "* ]]; then
    for rate in 2 4 8; do
      "$bin/semcom-optimize" --bundle "$work/default" --rate "$rate" --trials 100 --n-images 1000 \
        --objectives accuracy,latency,channel_uses --storage "sqlite:///$work/front_study_m$rate.db" \
        --plots "$work/plots_m$rate"
    done
  fi

  if [[ " $stages " == *" channel-tables "* ]]; then
    "$bin/semcom-channel-tables" --bundle "$work/default" \
      --channels awgn,rayleigh,correlated_rayleigh,rician,gilbert_elliott
  fi

  if [[ " $stages " == *" install "* ]]; then
    # the whole bundle (model, codes, fronts per rate and joint, tables, card) becomes the built-in default
    "$bin/semcom-bundle" show "$work/default"
    rm -rf semcom_ros/bundles/default.new
    cp -r "$work/default" semcom_ros/bundles/default.new
    rm -f semcom_ros/bundles/default.new/*.db semcom_ros/bundles/default.new/.lock
    "$bin/python" - "$work/default/bundle.yaml" semcom_ros/bundles/default.new/bundle.yaml "$root" "$work" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))
data["name"] = "default"
data["card"] = [e for e in data["card"] if e["step"] != "copy"]
# the card names the commands as anyone reruns them from the repository, not this machine's folders
root, work = sys.argv[3].rstrip("/") + "/", sys.argv[4].rstrip("/") + "/"
for entry in data["card"]:
    words = entry["command"].replace(work, "remeasure_work/").replace(root, "").split()
    entry["command"] = " ".join("<a folder elsewhere>" if w.startswith("/") else w for w in words)
text = "# The built-in bundle: the robot-view scene ViT, its JSCC codes and Pareto fronts.\n"
open(sys.argv[2], "w").write(text + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
PY
    rm -rf semcom_ros/bundles/default && mv semcom_ros/bundles/default.new semcom_ros/bundles/default
    "$bin/semcom-bundle" show default
  fi

  if [[ " $stages " == *" tables "* ]]; then
    # the figures the targets rest on first, so that a cut-short run still has them
    "$bin/python" benchmarks/front_table.py | tee "$work/front_table.md"
    "$bin/python" benchmarks/adaptive_rate.py --channel correlated_rayleigh --speed 2 \
      | tee "$work/adaptive_rate_correlated_rayleigh.md"
    "$bin/python" benchmarks/fleet.py --parts budget --channel correlated_rayleigh --speeds 0.5,2,5,10 \
      --out benchmarks/results/fleet_correlated_rayleigh.json | tee "$work/fleet_budget_correlated_rayleigh.md"
    "$bin/python" benchmarks/digital_baseline.py --robot-bundle "${work#$root/}/robot" | tee "$work/digital_baseline.md"
    "$bin/python" benchmarks/snr_table.py | tee "$work/snr_table.md"
    "$bin/python" benchmarks/adaptive_rate.py | tee "$work/adaptive_rate.md"
    "$bin/python" benchmarks/fleet.py --parts budget | tee "$work/fleet_budget.md"
    "$bin/python" benchmarks/moving_links.py | tee "$work/moving_links.md"
    rm -rf "$work/demo"
    bash scripts/demo.sh --duration 60 --quiet --out "$work/demo" | tee "$work/demo.json"
    cp "$work/demo/demo.png" benchmarks/results/demo.png
    cp "$work/demo/frames.png" benchmarks/results/demo_frames.png
    cp "$work/demo.json" benchmarks/results/demo.json
    "$bin/python" benchmarks/video_baseline.py | tee "$work/video_baseline.md"
    "$bin/python" benchmarks/adaptive_rate.py --sweep | tee "$work/adaptive_sweep.md"
    "$bin/python" benchmarks/adaptive_rate.py --sweep --channel correlated_rayleigh --speed 2 \
      | tee "$work/adaptive_sweep_correlated_rayleigh.md"
  fi
  date -u +"remeasure finished %Y-%m-%d %H:%M UTC"
}

main "$@"
