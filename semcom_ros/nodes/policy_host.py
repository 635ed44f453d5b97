"""What the policy manager and the fleet policy share: a policy rebuilt from the node's parameters.

A change of any of ``POLICY_PARAMS`` is checked by building the policy with the
new values first (atomically with the other parameters of the same set call), so a
setting the policy refuses is refused with its reason and the running policy stays.

The accuracy a policy predicts comes from the table of the channel it is on: the
``channel`` parameter, or (empty) what the channel nodes announce on their latched
``link_channel``, or the front's own channel. A channel the front has no table
for, or an announcement that contradicts the parameter, is a standing WARN on
``/diagnostics``.
"""
from __future__ import annotations

import json

from std_msgs.msg import String

from ..core.link.channel_models import CHANNELS
from .base import LATCHED, SemcomNode, guarded

CHANNEL_PARAM = ("channel model whose accuracy tables the policy uses; empty: the one the channel node announces "
                 "on link_channel (until then, the front's own)")      # the description both policy nodes declare
CARRIED_STATE = ("queue", "frames", "uses", "last_charge", "rates")    # a budget's history survives a table change


class PolicyHost(SemcomNode):
    POLICY_PARAMS: tuple[str, ...] = ()

    def build(self, **override):
        """The policy from the current parameters, with ``override`` in place of some."""
        raise NotImplementedError

    # --- the channel's accuracy tables
    def follow_channel(self, topics: list[str]) -> None:
        """Listen to the channel nodes' announcements (the node declares the ``channel`` parameter)."""
        self.announced: dict[str, str] = {}
        for topic in topics:
            self.create_subscription(String, topic, lambda m, t=topic: self.on_link_channel(t, m), LATCHED)

    def channel_in_use(self, param: str | None = None) -> str:
        param = self.p("channel") if param is None else param
        heard = sorted(set(self.announced.values()))
        return param or (heard[0] if heard else self.front.channel)

    def tables(self, param: str | None = None):
        """The front with the accuracy tables of the channel in use (its own when it has none for it)."""
        try:
            return self.front.on_channel(self.channel_in_use(param))
        except KeyError:
            return self.front

    @guarded("processing_errors")
    def on_link_channel(self, topic: str, msg: String) -> None:
        try:
            name = json.loads(msg.data)["channel"]
            if name not in CHANNELS:
                raise ValueError(f"unknown channel {name!r}")
        except (ValueError, KeyError, TypeError) as exc:
            self.count_error("bad_link_channel", f"{topic} ignored: {exc}: {msg.data[:80]!r}")
            return
        before = self.channel_in_use()
        self.announced[topic] = name
        if self.channel_in_use() != before:
            self.get_logger().info(f"{topic}: the link is {name}; policy now uses that channel's accuracy tables")
            self.rebuild()

    def standing_warning(self) -> str:
        heard, use = sorted(set(self.announced.values())), self.channel_in_use()
        if use not in self.front.channels:
            return (f"no accuracy table for channel {use!r} in the front (it has {', '.join(self.front.channels)}); "
                    f"predicting with {self.front.channel}'s")
        if len(heard) > 1:
            return f"the robots announce different channels {heard}; the policy uses {use}'s tables for all"
        if heard and heard[0] != use:
            return f"the channel node announces {heard[0]} but parameter channel={use!r}: using {use}'s tables"
        return ""

    # --- parameters
    def validate_parameter(self, name, value):
        try:
            if name in self.POLICY_PARAMS:
                self.build(**{**{k: v for k, v in self.incoming.items() if k in self.POLICY_PARAMS}, name: value})
        except (ValueError, KeyError, TypeError) as exc:
            return f"{name}={value!r}: {exc.args[0] if exc.args else exc}"
        return None

    def on_parameters_changed(self, names):
        if names & set(self.POLICY_PARAMS):
            self.rebuild()

    def rebuild(self) -> None:
        old, self.policy = getattr(self, "policy", None), self.build()
        for attr in CARRIED_STATE:
            if hasattr(old, attr) and hasattr(self.policy, attr) and type(old) is type(self.policy):
                setattr(self.policy, attr, getattr(old, attr))
        self.counters["policy_rebuilds"] += 1
