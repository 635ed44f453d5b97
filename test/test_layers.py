"""The tree's architecture, checked: no import points back up a layer.

core/ (ROS-free) <- nodes/ (ROS adapters) <- tools/ and launch/; inside core the
method's parts are ranked and a package imports only itself and ranks below.
Function-level imports count too.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "semcom_ros"
CORE_RANK = {"registry": 0, "data": 1, "model": 2, "link": 3, "fronts": 4, "policies": 5, "bundle": 5}
TOP_RANK = {"core": 0, "nodes": 1, "tools": 2}
ROS_MODULES = {"rclpy", "launch", "launch_ros", "rcl_interfaces", "sensor_msgs", "std_msgs", "diagnostic_msgs",
               "lifecycle_msgs", "cv_bridge", "builtin_interfaces", "ament_index_python"}


def module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports(path: Path, text: str | None = None) -> list[tuple[int, list[str]]]:
    """Every imported module of ``path`` (or of ``text`` as if there) as a dotted path, with its line."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [a.name] for a in node.names] if not node.module else [target]
                out += [(node.lineno, n) for n in names]
            else:
                out.append((node.lineno, node.module.split(".")))
    return out


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def core_package(name: list[str]) -> str | None:
    """'data', 'model', ... for semcom_ros.core.<package>..., 'registry' for core.registry."""
    if len(name) >= 3 and name[:2] == ["semcom_ros", "core"]:
        return name[2] if name[2] in CORE_RANK else None
    return None


def test_the_layers_are_known():
    found = {p.name for p in (PACKAGE / "core").iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert found == set(CORE_RANK) - {"registry"}, "a new core package needs a rank in CORE_RANK"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_points_back_up(path):
    name = module_name(path)
    if len(name) < 2 or name[1] not in TOP_RANK:
        return
    problems = []
    for line, target in imports(path):
        if target[0] == "semcom_ros" and len(target) > 1 and target[1] in TOP_RANK:
            if TOP_RANK[target[1]] > TOP_RANK[name[1]]:
                problems.append(f"line {line}: {'.'.join(target)} is a layer above {name[1]}/")
        if name[1] == "core" and target[0] in ROS_MODULES and "resources" not in name:
            problems.append(f"line {line}: core/ imports ROS ({target[0]})")
        own, other = core_package(name), core_package(target)
        if own and other and other != own and CORE_RANK[other] >= CORE_RANK[own]:
            problems.append(f"line {line}: core/{own} imports core/{other} (rank {CORE_RANK[other]} >= "
                            f"{CORE_RANK[own]})")
    assert not problems, f"{path.relative_to(PACKAGE)}: " + "; ".join(problems)


def test_the_check_sees_a_backward_import():
    """The resolver itself: relative imports up and across core/ packages resolve to their targets."""
    here = PACKAGE / "core" / "data" / "preprocess.py"
    text = "from ..link.jscc import JSCC\nfrom .scenes import Scene\nfrom ...nodes import base\n"
    resolved = [t for _, t in imports(here, text)]
    assert resolved == [["semcom_ros", "core", "link", "jscc"], ["semcom_ros", "core", "data", "scenes"],
                        ["semcom_ros", "nodes"]]
    assert CORE_RANK[core_package(resolved[0])] > CORE_RANK[core_package(module_name(here))]
