"""Managed (lifecycle) nodes that bring themselves to active and say so when they are not."""
from __future__ import annotations

import time
from typing import Any

from rclpy.lifecycle import LifecycleNodeMixin, TransitionCallbackReturn

from .base import SemcomNode


class ManagedNode(LifecycleNodeMixin, SemcomNode):
    """A lifecycle (managed) node: configure loads, activate subscribes, deactivate unsubscribes, cleanup frees.

    Subclasses implement ``configure``, ``activate``, ``deactivate`` and ``cleanup``.
    A configure that fails leaves the node unconfigured with the reason logged,
    counted and on /diagnostics, so it can be fixed and configured again.

    With ``autostart`` (the default) the node brings itself to active when built,
    under ``ros2 run`` and under the launch files alike: no service call or state
    event has to travel for a node to start, so none can be lost, however long
    configure takes. A failed configure then stops the process
    (``exit_on_failure``, for ``ros2 run``) or leaves the node unconfigured (the
    launch files). A node meant to be active that is not, ``active_timeout_s``
    after it started, says so at ERROR on /diagnostics and in its log. With
    ``autostart: false`` it waits for a lifecycle manager's transitions.
    """

    def __init__(self, name: str, **kwargs):
        SemcomNode.__init__(self, name, **kwargs)
        LifecycleNodeMixin.__init__(self)
        self.failure = ""
        self.meant_active = False       # autostart, until a lifecycle manager deliberately takes the node down
        self.started_at = time.monotonic()
        self.stuck_reported = False
        self.param("autostart", True, "configure and activate at start-up; false: wait for lifecycle "
                   "transitions (ros2 lifecycle set <node> configure|activate)", read_only=True)
        self.param("exit_on_failure", True, "autostart: a configure that fails ends the process with status 1 "
                   "(true, for ros2 run) or leaves the node unconfigured with the reason, to be configured again "
                   "(false, as the launch files start it)", read_only=True)
        self.param("active_timeout_s", 10.0, "autostart: report ERROR on /diagnostics and in the log when the node "
                   "is not active this long after it started", lo=0.1, hi=3600.0)

    def start(self) -> None:
        """With autostart: configure and activate now; a failed configure raises if ``exit_on_failure``."""
        if not self.p("autostart"):
            return
        self.meant_active = True
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            if self.p("exit_on_failure"):
                raise RuntimeError(self.failure)
            return
        self.trigger_activate()

    @property
    def state(self) -> str:
        return self._state_machine.current_state[1]

    def problem(self) -> str:
        since = time.monotonic() - self.started_at
        reason = f": {self.failure}" if self.failure else ""
        if self.meant_active and self.state != "active" and since >= self.p("active_timeout_s"):
            stuck = f"meant to be active (autostart) but {self.state} {since:.0f} s after start{reason}"
            if not self.stuck_reported:      # once in the log; /diagnostics repeats it every second
                self.stuck_reported = True
                self.get_logger().error(stuck)
            return stuck
        return f"unconfigured{reason}" if self.failure else ""

    def configure(self) -> None: ...
    def activate(self) -> None: ...
    def deactivate(self) -> None: ...
    def cleanup(self) -> None: ...

    def on_configure(self, state) -> TransitionCallbackReturn:
        try:
            self.configure()
        except Exception as exc:  # noqa: BLE001 - any reason the parts do not load: report it, stay unconfigured
            self.failure = str(exc)
            self.count_error("configure_failures", f"cannot configure: {exc}", severe=True)
            self.cleanup()
            return TransitionCallbackReturn.FAILURE
        self.failure = ""
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        try:
            self.activate()
        except Exception as exc:  # noqa: BLE001 - stay inactive, say why (and the watchdog reports it)
            self.count_error("activate_failures", f"cannot activate: {exc}", severe=True)
            self.deactivate()
            return TransitionCallbackReturn.FAILURE
        self.meant_active = True
        return super().on_activate(state)

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        self.meant_active = False       # a lifecycle manager took it down on purpose
        self.deactivate()
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        self.meant_active = False
        self.cleanup()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state) -> TransitionCallbackReturn:
        self.meant_active = False
        self.deactivate()
        self.cleanup()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        """Also release the lifecycle state machine, which holds the node's handle.

        While any handle lives the DDS participant does, so its shared-memory segments (tens of
        MB) would outlive the process, which leaves without the interpreter's final collection
        (``process.leave``).
        """
        super().destroy_node()
        self._state_machine.destroy_when_not_in_use()

    def lifecycle_values(self) -> dict[str, Any]:
        return {"state": self.state, **({"configure_failure": self.failure} if self.failure else {})}
