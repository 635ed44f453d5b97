#!/usr/bin/env bash
# Set up (if needed) and run the test suite. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
# test/test_two_hosts.py joins two network namespaces with a veth pair: it needs iproute2 (and root)
if ! command -v ip >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -qq iproute2 >/dev/null || { apt-get update -qq && apt-get install -y -qq iproute2 >/dev/null; }
fi
# test/test_scenes.py checks that evaluation scenes share no garment with Fashion-MNIST's training images:
# it needs Debian's copy of the data set (30 MB)
if [ -z "${SEMCOM_FMNIST_DIR:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -qq dataset-fashion-mnist >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; }
fi
cd "$root"
# Fast DDS: a shared-memory segment large enough for camera frames between processes (config/fastdds.xml)
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$root/config/fastdds.xml}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
# the ten slowest tests close the report: where the suite's time goes
exec .venv/bin/python -m pytest -q --durations=10 test "$@"
