"""How the package stays pluggable: ``@register("name")`` files a class in a table under its name.

Policies, fleet policies and channel models each keep one table; nodes, tools and
launch files list their choices from it, so a new one is one class and one line.
"""
from __future__ import annotations


def registry(table: dict, attr: str = "mode"):
    """``register(name)`` for ``table``: a class decorator that files the class and sets ``cls.<attr> = name``."""
    def register(name: str):
        def add(cls):
            setattr(cls, attr, name)
            table[name] = cls
            return cls
        return add
    return register
