"""Isolate every test run's ROS traffic: its own domain, localhost only, logs in a temp folder.

Camera-driver processes the tests start get the package's Fast DDS profile the way
a team's own driver gets it: through FASTDDS_DEFAULT_PROFILES_FILE (README).
"""
import os
import random
import tempfile
from pathlib import Path

os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="semcom_ros_log_"))
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(Path(__file__).parent.parent / "config" / "fastdds.xml"))
