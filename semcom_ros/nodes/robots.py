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


def robot_topic(robot: str, name: str) -> str:
    """``<robot>/<name>``, relative so the node's own namespace still applies; just ``name`` for ''."""
    return f"{robot}/{name}" if robot else name
