#!/usr/bin/env bash
# Re-make the built-in bundle's fronts for rates 2, 4 and 8 and re-measure, in one run, every
# figure that depends on them: the joint front, Table I analogue, accuracy vs SNR, the SNR-table
# benchmark, the adaptive-rate benchmark and the demo. About 1.5 h on a 2-core CPU; optuna studies
# live in remeasure_work/ so an interrupted run resumes. Usage: scripts/remeasure.sh [stage...]
# (stages: fronts install tables; default: all).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
cd "$root"
bin="$root/.venv/bin"
work="${SEMCOM_REMEASURE_WORK:-$root/remeasure_work}"
stages=("${@:-fronts install tables}")
stages=(${stages[*]})
has() { [[ " ${stages[*]} " == *" $1 "* ]]; }
mkdir -p "$work" benchmarks/results
if has fronts; then
  rm -rf "$work/default"
  "$bin/semcom-bundle" copy default "$work/default"
  for rate in 2 4 8; do
    "$bin/semcom-optimize" --bundle "$work/default" --rate "$rate" --trials 100 --n-images 1000 \
      --objectives accuracy,latency,channel_uses --storage "sqlite:///$work/front_study_m$rate.db" \
      --plots "$work/plots_m$rate"
  done
fi
