#!/usr/bin/env bash
# Set up (if needed) and run the demo: a real image through the merging ViT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
cd "$root"
exec .venv/bin/semcom-inspect --model vit_base_patch16_224 --uniform 0.1 "$@"
