#!/usr/bin/env bash
# Set up (if needed) and run the demo: the whole ROS 2 system in one process on the
# embedded model and data, SNR sweeping -5 -> 25 -> -5 dB. Extra arguments go to semcom-demo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_venv.sh"
cd "$root"
# Fast DDS: a shared-memory segment large enough for camera frames between processes (config/fastdds.xml)
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$root/config/fastdds.xml}"
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export ROS_LOG_DIR="${ROS_LOG_DIR:-$root/demo_report/ros_log}"
exec .venv/bin/semcom-demo "$@"
