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


def test_docstring_checks_are_active():
    out = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, timeout=60)
    assert "flake8-docstrings" in out.stdout, out.stdout      # otherwise the D checks above silently do nothing


# what the package imports -> its rosdep key; timm, optuna and safetensors have none (pip, see README)
ROSDEP = {"rclpy": "rclpy", "std_msgs": "std_msgs", "sensor_msgs": "sensor_msgs", "diagnostic_msgs": "diagnostic_msgs",
          "rcl_interfaces": "rcl_interfaces", "lifecycle_msgs": "lifecycle_msgs",
          "ament_index_python": "ament_index_python", "launch": "launch", "launch_ros": "launch_ros",
          "cv_bridge": "cv_bridge", "numpy": "python3-numpy", "cv2": "python3-opencv", "yaml": "python3-yaml",
          "tqdm": "python3-tqdm", "matplotlib": "python3-matplotlib", "torch": "python3-torch",
          "skimage": "python3-skimage", "timm": None, "optuna": None, "safetensors": None,
          "av": None, "constriction": None}


def test_package_xml_declares_every_import():
    import ast

    imported = set()
    for path in list((ROOT / "semcom_ros").rglob("*.py")) + list((ROOT / "launch").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported - set(sys.stdlib_module_names) if m != "semcom_ros"}
    unknown = third_party - set(ROSDEP)
    assert not unknown, f"imported but not mapped to a rosdep key here: {unknown}"
    depends = {e.text for e in ET.parse(ROOT / "package.xml").getroot() if e.tag.endswith("depend")}
    missing = {ROSDEP[m] for m in third_party if ROSDEP[m]} - depends
    assert not missing, f"imported but not in package.xml: {missing}"
