"""Write docs/parameters.md from the nodes' own declarations, so the reference cannot drift.

    .venv/bin/python scripts/parameter_reference.py            # rewrite docs/parameters.md
    .venv/bin/python scripts/parameter_reference.py --check    # exit 1 if the file differs (a test runs this)

Every node is built in this process (managed nodes with autostart off, so no
model loads) and asked for its parameters' descriptors: type, default, range
or choices, read-only, description.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "parameters.md"
HEADER = """# Node parameters

Every parameter each node declares, as `ros2 param describe` gives it: generated from the
nodes themselves by `scripts/parameter_reference.py` (`test/test_docs.py` fails if this file
and the code differ). "run time": changeable while the node runs (`ros2 param set`); the
others are read at start-up (`-p name:=value`, `params_file`, launch arguments).
Topics and message types: [nodes and topics](nodes.md).
"""


def cell(text: str) -> str:
    return str(text).replace("|", "\\|") or "–"


def shown(value) -> str:
    """A default as a user writes it in YAML or on the command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def describe(node) -> list[str]:
    from rclpy.parameter import Parameter

    names = list(node.defaults)         # what the node declared (not rclpy's own use_sim_time)
    rows = ["| parameter | type | default | range / choices | run time | description |", "|---|---|---|---|---|---|"]
    for name, desc in zip(names, node.describe_parameters(names)):
        kind = Parameter.Type(desc.type).name.lower()
        bounds = ""
        if desc.integer_range:
            bounds = f"{desc.integer_range[0].from_value} … {desc.integer_range[0].to_value}"
        elif desc.floating_point_range:
            bounds = f"{desc.floating_point_range[0].from_value:g} … {desc.floating_point_range[0].to_value:g}"
        elif desc.additional_constraints:
            bounds = desc.additional_constraints
        rows.append(f"| `{name}` | {kind} | `{cell(shown(node.defaults[name]))}` | {cell(bounds)} | "
                    f"{'no' if desc.read_only else 'yes'} | "
                    f"{cell(desc.description)} |")
    return rows


def reference() -> str:
    import rclpy
    from rclpy.parameter import Parameter

    from semcom_ros.nodes.managed import ManagedNode
    from semcom_ros.nodes.system import EVERY_NODE, node_class

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    rclpy.init()
    parts = [HEADER]
    try:
        for name in EVERY_NODE:
            cls = node_class(name)
            managed = issubclass(cls, ManagedNode)       # built without loading a model
            node = cls(parameter_overrides=[Parameter("autostart", value=False)] if managed else [])
            try:
                purpose = (sys.modules[cls.__module__].__doc__ or "").splitlines()[0]
                parts.append(f"\n## `{node.get_name()}`\n\n{purpose}\n\n")
                parts.append("\n".join(describe(node)) + "\n")
            finally:
                node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return "".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with docs/parameters.md instead of writing it")
    args = ap.parse_args()
    text = reference()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT.relative_to(ROOT)} differs from the nodes' declarations: run "
                     f"scripts/parameter_reference.py")
        return
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
