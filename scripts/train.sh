#!/usr/bin/env bash
# Rebuild the built-in bundle from scratch as a new bundle folder (about 2.5 h on a 2-core CPU):
# ViT on Fashion-MNIST, JSCC codes for rates 2/4/8 (trained on a mixture of channels), the 150-trial
# Pareto front for rate 4. Installs Debian's dataset-fashion-mnist if it is missing.
# Usage: scripts/train.sh [--codes-only] OUT_BUNDLE   (--codes-only: only the JSCC codes, into an
# existing bundle; checkpoints go to train_work/ so an interrupted ViT run resumes).
set -euo pipefail
codes_only=false
if [ "${1:-}" = "--codes-only" ]; then codes_only=true; shift; fi
out="${1:?usage: scripts/train.sh [--codes-only] OUT_BUNDLE}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
if [ -z "${SEMCOM_FMNIST_DIR:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q dataset-fashion-mnist
fi
bin="$root/.venv/bin"
$codes_only || "$bin/semcom-train-default" --epochs 22 --work train_work --bundle "$out"
"$bin/semcom-train-jscc" --bundle "$out" --images fashion-mnist --rates 2,4,8 --steps 1500
$codes_only && exit 0
"$bin/semcom-optimize" --bundle "$out" --rate 4 --trials 150 --n-images 1000 --storage "sqlite:///$out/front_study.db"
