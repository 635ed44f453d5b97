"""Isolate every test run's ROS traffic: its own domain, localhost only, logs in a temp folder."""
import os
import random
import tempfile

os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="semcom_ros_log_"))
os.environ.setdefault("OMP_NUM_THREADS", "2")
