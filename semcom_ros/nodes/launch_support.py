"""What the launch files share: refuse bad arguments before anything starts, stop on a failed node.

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


def managed(node, autostart) -> list:
    """A ``LifecycleNode`` action plus, when ``autostart`` is true, what brings it to active.

    Configure is requested as soon as the node is up; once it reaches inactive
    from configuring, activate follows. A configure that fails leaves the node
    unconfigured (its log and /diagnostics say why) for ``ros2 lifecycle set``.
    """
    from launch.actions import EmitEvent, RegisterEventHandler
    from launch.conditions import IfCondition
    from launch.events import matches_action
    from launch_ros.event_handlers import OnStateTransition
    from launch_ros.events.lifecycle import ChangeState
    from lifecycle_msgs.msg import Transition

    def change(transition: int, **kwargs) -> EmitEvent:
        return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(node), transition_id=transition),
                         **kwargs)

    activate_when_configured = RegisterEventHandler(
        OnStateTransition(target_lifecycle_node=node, start_state="configuring", goal_state="inactive",
                          entities=[change(Transition.TRANSITION_ACTIVATE)]),
        condition=IfCondition(autostart))
    configure = change(Transition.TRANSITION_CONFIGURE, condition=IfCondition(autostart))
    return [node, activate_when_configured, configure]
