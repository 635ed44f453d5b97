#!/usr/bin/env bash
# Re-make the built-in bundle's JSCC codes and fronts and re-measure, in one run, every figure that
# depends on them: the joint front and Table I analogue, accuracy vs SNR, the SNR table, the adaptive
# and fleet budget benchmarks (AWGN and the moving robot's fading), the moving-link comparison, the
# digital baseline and the demo. About 3 h on a 2-core CPU. The work lives in remeasure_work/
# (SEMCOM_REMEASURE_WORK), so an interrupted run resumes where it stopped.
#   scripts/remeasure.sh                 # everything
#   scripts/remeasure.sh tables          # only the stages named: codes, fronts, channel-tables, install, tables
# Stages: codes (JSCC trained on a channel mixture, into a fresh copy of the built-in bundle), fronts
# (the optuna searches; merge schedules do not depend on the codes), channel-tables (every
# configuration's accuracy by SNR on every channel model with the codes), install, tables.
set -euo pipefail

main() {
  local root work bin
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  bash "$root/scripts/setup_venv.sh"
  cd "$root"
  bin="$root/.venv/bin"
  work="${SEMCOM_REMEASURE_WORK:-$root/remeasure_work}"
  local stages="${*:-codes fronts channel-tables install tables}"
  mkdir -p "$work" benchmarks/results
  date -u +"remeasure started %Y-%m-%d %H:%M UTC"

  if [[ " $stages " == *" codes "* ]]; then
    # a fresh copy of the built-in bundle (model unchanged) receives codes trained on a channel mixture
    # (benchmarks/jscc_mixture.py measured the mixture against AWGN-only codes)
    rm -rf "$work/default"
    "$bin/semcom-bundle" copy default "$work/default"
    bash scripts/train.sh --codes-only "$work/default"
  fi

  if [[ " $stages " == *" fronts "* ]]; then
    [ -d "$work/default" ] || "$bin/semcom-bundle" copy default "$work/default"
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
    # the codes, the fronts (per rate and joint) and the manifest with their card become the built-in bundle's
    "$bin/semcom-bundle" show "$work/default"
    cp "$work/default"/front_m*.yaml "$work/default/front_joint.yaml" "$work/default"/jscc_m*.safetensors \
      semcom_ros/bundles/default/
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
    "$bin/python" benchmarks/adaptive_rate.py --channel correlated_rayleigh --speed 2 \
      | tee "$work/adaptive_rate_correlated_rayleigh.md"
    "$bin/python" benchmarks/fleet.py --parts budget | tee "$work/fleet_budget.md"
    "$bin/python" benchmarks/fleet.py --parts budget --channel correlated_rayleigh --speeds 0.5,2,5,10 \
      --out benchmarks/results/fleet_correlated_rayleigh.json | tee "$work/fleet_budget_correlated_rayleigh.md"
    "$bin/python" benchmarks/moving_links.py | tee "$work/moving_links.md"
    "$bin/python" benchmarks/adaptive_rate.py --sweep | tee "$work/adaptive_sweep.md"
    "$bin/python" benchmarks/digital_baseline.py | tee "$work/digital_baseline.md"
    rm -rf "$work/demo"
    bash scripts/demo.sh --duration 60 --quiet --out "$work/demo" | tee "$work/demo.json"
    cp "$work/demo/demo.png" benchmarks/results/demo.png
    cp "$work/demo.json" benchmarks/results/demo.json
    "$bin/python" benchmarks/adaptive_rate.py --sweep --channel correlated_rayleigh --speed 2 \
      | tee "$work/adaptive_sweep_correlated_rayleigh.md"
  fi
  date -u +"remeasure finished %Y-%m-%d %H:%M UTC"
}

main "$@"
