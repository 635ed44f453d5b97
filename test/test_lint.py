"""Style and packaging checks, as ament_python packages ship them (ament_flake8, package.xml)."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_flake8_is_clean():
    out = subprocess.run([sys.executable, "-m", "flake8", "semcom_ros", "test", "launch", "benchmarks", "setup.py"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_xml_is_format_3_and_names_the_build_type():
    root = ET.parse(ROOT / "package.xml").getroot()
    assert root.tag == "package" and root.get("format") == "3"
    assert root.findtext("name") == "semcom_ros"
    assert root.find("export").findtext("build_type") == "ament_python"
    depends = {e.text for e in root if e.tag.endswith("depend")}
    for needed in ("rclpy", "sensor_msgs", "diagnostic_msgs", "std_msgs", "launch", "launch_ros", "cv_bridge"):
        assert needed in depends, needed
