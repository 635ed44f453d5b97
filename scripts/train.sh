#!/usr/bin/env bash
# Rebuild the built-in bundle from scratch as a new bundle folder: the robot-view scene ViT
# (semcom-train-scenes: ~2.3 h on a 2-core CPU, checkpoints in train_work/scenes so an interrupted run
# resumes), JSCC codes for rates 2/4/8 after block SEMCOM_SPLIT (default 3, chosen in docs/results.md; trained on a mixture of
# channels, on training scenes), the 150-trial Pareto front for rate 4 on the evaluation scenes.
# Installs Debian's dataset-fashion-mnist (the garments the scenes are made of) if it is missing.
# Usage: scripts/train.sh [--codes-only] [--garments] OUT_BUNDLE
#   --codes-only  only the JSCC codes, into an existing bundle
#   --garments    the small garment bundle instead (a ViT on centred 28x28 Fashion-MNIST, ~2.5 h)
set -euo pipefail
codes_only=false garments=false
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --codes-only) codes_only=true ;;
    --garments) garments=true ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
out="${1:?usage: scripts/train.sh [--codes-only] [--garments] OUT_BUNDLE}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
if [ -z "${SEMCOM_FMNIST_DIR:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q dataset-fashion-mnist
fi
bin="$root/.venv/bin"
if $garments; then
  $codes_only || "$bin/semcom-train-default" --epochs 22 --work train_work --bundle "$out"
  "$bin/semcom-train-jscc" --bundle "$out" --images fashion-mnist --rates 2,4,8 --steps 1500
  $codes_only && exit 0
  "$bin/semcom-optimize" --bundle "$out" --rate 4 --trials 150 --n-images 1000 --storage "sqlite:///$out/front_study.db"
  exit 0
fi
$codes_only || "$bin/semcom-train-scenes" --arch scene --work train_work/scenes/run --bundle "$out"
"$bin/semcom-train-jscc" --bundle "$out" --images scenes-train --rates 2,4,8 --split "${SEMCOM_SPLIT:-3}" --steps 1500
$codes_only && exit 0
"$bin/semcom-optimize" --bundle "$out" --rate 4 --trials 150 --n-images 1000 --storage "sqlite:///$out/front_study.db"
