"""What the policy manager and the fleet policy share: a policy rebuilt from the node's parameters.

A change of any of ``POLICY_PARAMS`` is checked by building the policy with the
new values first (atomically with the other parameters of the same set call), so a
setting the policy refuses is refused with its reason and the running policy stays.
"""
from __future__ import annotations

from .base import SemcomNode


class PolicyHost(SemcomNode):
    POLICY_PARAMS: tuple[str, ...] = ()

    def build(self, **override):
        """The policy from the current parameters, with ``override`` in place of some."""
        raise NotImplementedError

    def validate_parameter(self, name, value):
        try:
            if name in self.POLICY_PARAMS:
                self.build(**{**{k: v for k, v in self.incoming.items() if k in self.POLICY_PARAMS}, name: value})
        except (ValueError, KeyError, TypeError) as exc:
            return f"{name}={value!r}: {exc.args[0] if exc.args else exc}"
        return None

    def on_parameters_changed(self, names):
        if names & set(self.POLICY_PARAMS):
            self.policy = self.build()
            self.counters["policy_rebuilds"] += 1
