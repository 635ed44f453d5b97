"""Robot namespaces of a fleet, as the fleet server and the fleet policy read them."""
from __future__ import annotations

import re

ROBOT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def robot_names(value) -> list[str]:
    """The ``robots`` parameter checked; [''] (or nothing) is one robot on the node's own topics."""
    names = [str(v).strip().strip("/") for v in value]
    if not names or names == [""]:
        return [""]
    bad = [n for n in names if not ROBOT_NAME.match(n)]
    if bad:
        raise ValueError(f"robots: {bad} are not namespaces (letters, digits, _ and /, not starting with a digit)")
    if len(set(names)) != len(names):
        raise ValueError(f"robots: {names} names a robot twice")
    return names


def scoped(robot: str, name: str) -> str:
    """A topic or counter of ``robot``: ``<robot>/<name>`` (relative, so the node's namespace still applies).

    Just ``name`` for the one robot of a single-robot node ('').
    """
    return f"{robot}/{name}" if robot else name


def count_robot_error(node, robot: str, counter: str, message: str) -> None:
    """Count a problem against ``robot`` (``<robot>/<counter>``) and in the node's total, and say whose it was."""
    if robot:
        node.counters[scoped(robot, counter)] += 1
    node.count_error(counter, f"{robot}: {message}" if robot else message)
