"""What the launch files share: refuse bad arguments before anything starts, stop on a failed node.

The managed camera and server nodes bring themselves to active (``autostart``),
so the launch files send them no lifecycle transitions.

Imported only by ``launch/*.launch.py`` (it needs the ``launch`` package of a ROS install).
"""
from __future__ import annotations

from launch.actions import OpaqueFunction
from launch.substitutions import LaunchConfiguration


class LaunchArgumentError(RuntimeError):
    """A launch argument that cannot work; the message says what to pass instead."""


def require_value(argument: str, when: str, values: tuple[str, ...], hint: str) -> OpaqueFunction:
    """Fail the launch before any node starts if ``when`` is one of ``values`` and ``argument`` is empty."""
    def check(context, *args, **kwargs):
        chosen = LaunchConfiguration(when).perform(context)
        if chosen in values and not LaunchConfiguration(argument).perform(context).strip():
            raise LaunchArgumentError(f"{when}:={chosen} needs {argument}:=<{hint}>")
        return []
    return OpaqueFunction(function=check)


def stop_launch_on_failure() -> OpaqueFunction:
    """``on_exit`` action for a node: a non-zero exit outside shutdown stops the launch with exit status 1.

    ``ros2 launch`` returns non-zero only when launch itself raises, so a node
    that exits with an error raises here; the node's own last log line says why.
    """
    def check(context, *args, **kwargs):
        event = context.locals.event
        if event.returncode != 0 and not context.is_shutdown:
            raise RuntimeError(f"{event.action.name} exited with status {event.returncode} "
                               f"(see its log line above); stopping the launch")
        return []
    return OpaqueFunction(function=check)
