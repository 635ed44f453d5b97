"""The launch files against the code they start: executables, node names, parameters, argument choices.

``launch`` itself is not on PyPI, so these checks read the launch files' syntax
tree; a wrong executable, node name, parameter or choice list fails here.
The launch files were also run under a real ``ros2 launch`` (README).
"""
import ast
import re
from pathlib import Path

import pytest
import yaml

from semcom_ros.core.link.channel_models import CHANNELS
from semcom_ros.core.data.frame_sources import SOURCES
from semcom_ros.nodes.msg_convert import IMAGE_TRANSPORTS
from semcom_ros.nodes.base import RELIABILITIES
from semcom_ros.core.policies.fleet import FLEET_MODES
from semcom_ros.core.policies.robot import POLICY_MODES
from semcom_ros.core.link.snr_profiles import PROFILES

ROOT = Path(__file__).parent.parent
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))
CLOSED_SETS = {"policy_mode": POLICY_MODES, "snr_profile": PROFILES, "channel": CHANNELS, "source": SOURCES,
               "image_transport": IMAGE_TRANSPORTS, "image_reliability": RELIABILITIES,
               "use_image_source": ("true", "false"), "fleet_mode": FLEET_MODES}


def entry_points() -> dict[str, str]:
    """console script -> module, from setup.py."""
    scripts = re.findall(r'"(\w[\w-]*) = semcom_ros\.([\w.]+):(\w+)"', (ROOT / "setup.py").read_text())
    # nodes start through nodes/start.py, whose function of each name runs the node module of that name
    return {name: f"nodes.{func}" if module == "nodes.start" else module for name, module, func in scripts}


def node_declares(module: str) -> tuple[str, set[str]]:
    """The node name a module's node class passes to rclpy and the parameters it declares."""
    src = (ROOT / "semcom_ros" / (module.replace(".", "/") + ".py")).read_text()
    name = re.search(r'super\(\).__init__\("(\w+)"', src).group(1)
    params = set(re.findall(r'self\.param\("(\w+)"', src))
    shared = (ROOT / "semcom_ros" / "nodes" / "bundle_params.py").read_text()
    helpers = {helper: set(re.findall(r'node\.param\("(\w+)"', body))
               for helper, body in re.findall(r"\ndef (declare_\w+)\(node.*?\n(.*?)(?=\n\S)", shared, re.S)}
    helpers["declare_link_params"] |= helpers["declare_bundle_params"]      # the one calls the other
    for helper, declared in helpers.items():
        if f"{helper}(self)" in src:
            params |= declared
        elif f"{helper}(self, rate=False)" in src:
            params |= declared - {"rate"}
    if "ImageInput" in src:         # the image subscription's mixin declares its own
        mixin = (ROOT / "semcom_ros" / "nodes" / "image_input.py").read_text()
        params |= set(re.findall(r'self\.param\("(\w+)"', mixin))
    if "ManagedNode)" in src:
        managed = (ROOT / "semcom_ros" / "nodes" / "managed.py").read_text()
        params |= set(re.findall(r'self\.param\("(\w+)"', managed))
    return name, params


def calls(tree, func_name):
    names = {func_name, "LifecycleNode"} if func_name == "Node" else {func_name}    # a managed node is a Node too
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) in names]


def kw(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def literal(node, tree):
    """A literal, a module-level constant of the launch file, or ``list(NAME)`` of a name it imports."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "list" and len(node.args) == 1:
        return list(literal(node.args[0], tree))
    if isinstance(node, ast.Name):
        for n in tree.body:
            if isinstance(n, ast.ImportFrom) and any((a.asname or a.name) == node.id for a in n.names):
                import importlib

                return getattr(importlib.import_module(n.module), node.id)
        for n in tree.body:
            if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == node.id for t in n.targets):
                return ast.literal_eval(n.value)
    return ast.literal_eval(node)


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_nodes_in_launch_files_exist_and_get_only_declared_parameters(path):
    tree = ast.parse(path.read_text())
    scripts = entry_points()
    for call in calls(tree, "Node"):
        executable = literal(kw(call, "executable"), tree)
        assert executable in scripts, f"{path.name}: no console script {executable!r} in setup.py"
        name, declared = node_declares(scripts[executable])
        assert literal(kw(call, "name"), tree) == name
        assert kw(call, "on_exit") is not None, f"{path.name}: {executable} must stop the launch when it fails"
        for item in kw(call, "parameters").elts:
            if isinstance(item, ast.Dict):
                keys = {literal(k, tree) for k in item.keys}
                assert keys <= declared, f"{path.name}: {executable} does not declare {keys - declared}"


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_closed_argument_sets_are_checked_before_anything_starts(path):
    tree = ast.parse(path.read_text())
    for call in calls(tree, "DeclareLaunchArgument"):
        if not (call.args and isinstance(call.args[0], ast.Constant)):
            continue                  # semcom.launch.py re-declares the included files' arguments as they are
        name = call.args[0].value
        if name in CLOSED_SETS:
            choices = kw(call, "choices")
            assert choices is not None, f"{path.name}: argument {name} needs choices="
            assert tuple(literal(choices, tree)) == tuple(CLOSED_SETS[name])


def test_every_choice_is_usable_from_the_launch_line():
    edge = ast.parse((ROOT / "launch" / "edge.launch.py").read_text())
    server = ast.parse((ROOT / "launch" / "server.launch.py").read_text())
    args = {literal(c.args[0], t): c for t in (edge, server) for c in calls(t, "DeclareLaunchArgument")}
    assert {"image_path", "snr_trace", "params_file", "namespace"} <= set(args)
    assert literal(kw(args["source"], "default_value"), edge) == "scenes"   # works without a camera
    checks = {tuple(literal(a, t) for a in c.args[:3]) for t in (edge, server) for c in calls(t, "require_value")}
    assert ("image_path", "source", ("video", "folder")) in checks
    assert ("snr_trace", "snr_profile", ("csv",)) in checks


def test_the_whole_system_launch_forwards_every_argument():
    src = (ROOT / "launch" / "semcom.launch.py").read_text()
    assert "get_launch_arguments()" in src and "edge.launch.py" in src and "server.launch.py" in src


def declared_defaults(module: str) -> dict:
    """name -> default of every parameter a node declares with a literal default."""
    src = (ROOT / "semcom_ros" / (module.replace(".", "/") + ".py")).read_text()
    trees = [ast.parse(src)]
    if "declare_link_params(self" in src or "declare_bundle_params(self" in src:
        trees.append(ast.parse((ROOT / "semcom_ros" / "nodes" / "bundle_params.py").read_text()))
    if "ImageInput" in src:
        trees.append(ast.parse((ROOT / "semcom_ros" / "nodes" / "image_input.py").read_text()))
    if "ManagedNode)" in src:
        trees.append(ast.parse((ROOT / "semcom_ros" / "nodes" / "managed.py").read_text()))
    out = {}
    for tree in trees:
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "param" and len(n.args) >= 2:
                out[ast.literal_eval(n.args[0])] = ast.literal_eval(n.args[1])
    return out


def launch_set_parameters(paths=LAUNCH_FILES) -> dict[str, set[str]]:
    """node name -> parameters some launch file sets from its arguments."""
    out: dict[str, set[str]] = {}
    for path in paths:
        tree = ast.parse(path.read_text())
        for call in calls(tree, "Node"):
            for item in kw(call, "parameters").elts:
                if isinstance(item, ast.Dict):
                    out.setdefault(literal(kw(call, "name"), tree), set()).update(literal(k, tree) for k in item.keys)
    return out


def test_config_file_equals_the_node_declarations_and_skips_launch_arguments():
    """Defaults live in the node declarations; the YAML shows them and cannot drift or be silently overridden."""
    config = yaml.safe_load((ROOT / "config" / "semcom.yaml").read_text())
    scripts = entry_points()
    # fleet.launch.py gives each robot's nodes the file's own section, then that robot's SNR and seed on top
    fleet = ROOT / "launch" / "fleet.launch.py"
    launched = launch_set_parameters([p for p in LAUNCH_FILES if p != fleet])
    for node, keys in launch_set_parameters([fleet]).items():
        if node in ("semcom_server", "semcom_fleet_policy"):
            launched.setdefault(node, set()).update(keys)
    modules = {node_declares(m)[0]: m for s, m in scripts.items() if m.startswith("nodes.")}
    assert set(config) == set(modules), "one section per node"
    for node, section in config.items():
        values = section["ros__parameters"]
        defaults = declared_defaults(modules[node])
        for key, value in values.items():
            assert key in defaults, f"{node}.{key} is not declared"
            assert value == defaults[key], f"{node}.{key}: YAML {value!r}, node default {defaults[key]!r}"
        assert not set(values) & launched.get(node, set()), \
            f"{node}: {set(values) & launched[node]} are set by launch arguments, the YAML value would be ignored"


def test_camera_and_server_are_managed_nodes_that_bring_themselves_up():
    """No transition has to travel for the launch to end active: the nodes start themselves (README)."""
    managed_executables = set()
    for path in LAUNCH_FILES:
        tree = ast.parse(path.read_text())
        for call in calls(tree, "Node"):
            if call.func.id == "LifecycleNode":
                managed_executables.add(literal(kw(call, "executable"), tree))
                given = {literal(k, tree): v for d in kw(call, "parameters").elts if isinstance(d, ast.Dict)
                         for k, v in zip(d.keys, d.values)}
                autostart = given.get("autostart")
                assert isinstance(autostart, ast.Call) and ast.unparse(autostart) == "arg('autostart')", \
                    f"{path.name}: autostart must follow the launch argument"
                assert literal(given["exit_on_failure"], tree) is False, \
                    f"{path.name}: a failed configure must leave the node for a lifecycle manager, not stop it"
        assert "ChangeState" not in path.read_text() and "OnStateTransition" not in path.read_text()
    assert managed_executables == {"camera_node", "server_node"}
