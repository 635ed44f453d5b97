#!/usr/bin/env bash
# Re-make the built-in bundle's fronts for JSCC rates 2, 4 and 8 and re-measure, in one run, every
# figure that depends on them: the joint front and Table I analogue, accuracy vs SNR, the SNR table,
# the adaptive-rate benchmark and the demo. About 2 h on a 2-core CPU. The optuna studies live in
# remeasure_work/ (SEMCOM_REMEASURE_WORK), so an interrupted run resumes where it stopped.
#   scripts/remeasure.sh                 # everything
#   scripts/remeasure.sh tables          # only the stages named: fronts, install, tables
set -euo pipefail

main() {
  local root work bin
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  bash "$root/scripts/setup_venv.sh"
  cd "$root"
  bin="$root/.venv/bin"
  work="${SEMCOM_REMEASURE_WORK:-$root/remeasure_work}"
  local stages="${*:-fronts install tables}"
  mkdir -p "$work" benchmarks/results
  date -u +"remeasure started %Y-%m-%d %H:%M UTC"

  if [[ " $stages " == *" fronts "* ]]; then
    # a fresh copy of the built-in bundle (model and JSCC codes unchanged) receives the new fronts
    rm -rf "$work/default"
    "$bin/semcom-bundle" copy default "$work/default"
    for rate in 2 4 8; do
      "$bin/semcom-optimize" --bundle "$work/default" --rate "$rate" --trials 100 --n-images 1000 \
        --objectives accuracy,latency,channel_uses --storage "sqlite:///$work/front_study_m$rate.db" \
        --plots "$work/plots_m$rate"
    done
  fi

  if [[ " $stages " == *" install "* ]]; then
    # the new fronts (per rate and joint) and the manifest with their card become the built-in bundle's
    "$bin/semcom-bundle" show "$work/default"
    cp "$work/default"/front_m*.yaml "$work/default/front_joint.yaml" semcom_ros/bundles/default/
    "$bin/python" - "$work/default/bundle.yaml" semcom_ros/bundles/default/bundle.yaml <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))
data["name"] = "default"
data["card"] = [e for e in data["card"] if e["step"] != "copy"]
text = "# The built-in bundle: the embedded Fashion-MNIST ViT, its JSCC codes and Pareto fronts.\n"
open(sys.argv[2], "w").write(text + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
PY
    "$bin/semcom-bundle" show default
  fi

  if [[ " $stages " == *" tables "* ]]; then
    "$bin/python" benchmarks/front_table.py | tee "$work/front_table.md"
    "$bin/python" benchmarks/snr_table.py | tee "$work/snr_table.md"
    "$bin/python" benchmarks/adaptive_rate.py | tee "$work/adaptive_rate.md"
    rm -rf "$work/demo"
    bash scripts/demo.sh --duration 60 --quiet --out "$work/demo" | tee "$work/demo.json"
    cp "$work/demo/demo.png" benchmarks/results/demo.png
    cp "$work/demo.json" benchmarks/results/demo.json
  fi
  date -u +"remeasure finished %Y-%m-%d %H:%M UTC"
}

main "$@"
