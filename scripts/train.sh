#!/usr/bin/env bash
# Retrain the embedded default model and its JSCC codes from scratch (about 2 h on a 2-core CPU).
# Installs Debian's dataset-fashion-mnist if it is missing. Writes into semcom_ros/weights and
# semcom_ros/data; checkpoints to train_work/ so an interrupted run resumes.
# Extra arguments go to the ViT training (e.g. --epochs 22).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
cd "$root"
if [ -z "${SEMCOM_FMNIST_DIR:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q dataset-fashion-mnist
fi
.venv/bin/python -m semcom_ros.train_default --epochs 22 --work train_work "$@"
.venv/bin/python -m semcom_ros.train_jscc --rates 2,4,8 --steps 1500
