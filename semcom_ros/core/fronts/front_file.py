"""The Pareto front file: what the offline optimiser writes and the runtime reads.

YAML, one per bundle and rate, plus one *joint* front over all rates whose
configurations each carry their rate (``rates`` at the top instead of ``rate``;
see ``joint_front``). ``load_front`` checks every field and names the first
problem it finds (file, path inside it, what was expected), so a broken or
hand-edited file fails loudly at start-up instead of mid-mission.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

FORMAT_VERSION = 1


class FrontFileError(ValueError):
    """A front file that cannot be used, with the reason."""


@dataclass
class Configuration:
    name: str
    ratios: list[float] | None
    thresholds: list[float] | None
    accuracy: float
    accuracy_by_snr: dict[float, float]
    gmacs: float
    channel_uses: float
    img_per_s: float
    latency_ms: float = 0.0     # edge time per frame measured by the optimiser (0: not measured)
    rate: int = 0               # JSCC complex symbols per token this configuration sends
    accuracy_by_channel: dict[str, dict[float, float]] = field(default_factory=dict)  # other channels' tables

    def accuracy_at(self, snr_db: float) -> float:
        """Expected accuracy at ``snr_db``: linear between the grid's SNRs, flat beyond its ends.

        Noiseless accuracy if there is no grid.
        """
        if not self.accuracy_by_snr:
            return self.accuracy
        grid = sorted(self.accuracy_by_snr)
        return float(np.interp(snr_db, grid, [self.accuracy_by_snr[s] for s in grid]))


def rate_name(name: str, rate: int) -> str:
    """The joint front's name of a rate front's configuration: p06 at rate 4 is p06@m4."""
    return f"{name}@m{rate}"


@dataclass
class Front:
    model: str
    rate: int | None                # None: a joint front (each configuration says its rate)
    depth: int
    configurations: list[Configuration]
    operating_points: dict[str, str | None]
    raw: dict
    default_rate: int | None = None     # the rate a plain schedule name (p06) means in a joint front

    @property
    def channel(self) -> str:
        """The channel ``accuracy_by_snr`` was measured on."""
        return str(self.raw.get("channel", "awgn"))

    @property
    def channels(self) -> list[str]:
        """Every channel this front has an accuracy table for, its own first."""
        extra = set().union(*(c.accuracy_by_channel for c in self.configurations)) - {self.channel}
        return [self.channel] + sorted(extra)

    def on_channel(self, name: str) -> "Front":
        """This front with ``name``'s accuracy tables in ``accuracy_by_snr``, the tables every policy reads."""
        if name == self.channel:
            return self
        missing = [c.name for c in self.configurations if name not in c.accuracy_by_channel]
        if missing:
            raise KeyError(f"no accuracy table for channel {name!r} (this front has {', '.join(self.channels)}; "
                           f"semcom-channel-tables adds more)")
        confs = [replace(c, accuracy_by_snr=c.accuracy_by_channel[name]) for c in self.configurations]
        return replace(self, configurations=confs, raw={**self.raw, "channel": name})

    @property
    def rates(self) -> list[int]:
        return sorted({c.rate for c in self.configurations})

    @property
    def joint(self) -> bool:
        return self.rate is None

    def get(self, name: str) -> Configuration:
        for c in self.configurations:
            if c.name == name:
                return c
        if name in self.operating_points and self.operating_points[name]:
            return self.get(self.operating_points[name])
        if self.joint and "@" not in name and self.default_rate is not None:
            with_rate = rate_name(name, self.default_rate)
            if any(c.name == with_rate for c in self.configurations):
                return self.get(with_rate)
        known = [c.name for c in self.configurations] + [k for k, v in self.operating_points.items() if v]
        raise KeyError(f"unknown configuration {name!r}; known: {', '.join(known)}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.configurations]

    def label(self, name: str) -> str:
        """What a user reads: "S1 (p02)" for an operating point, the plain name otherwise."""
        conf = self.get(name).name
        points = [point for point, target in self.operating_points.items() if target == conf]
        return f"{'/'.join(points)} ({conf})" if points else conf


def table_problems(front: Front, known_channels) -> list[str]:
    """What is wrong with a front's per-channel accuracy tables: gaps a policy would fall through."""
    problems = []
    grid = sorted(float(s) for s in front.raw.get("snr_grid") or [])
    for ch in front.channels[1:]:
        if ch not in known_channels:
            problems.append(f"accuracy table for unknown channel {ch!r} (known: {', '.join(known_channels)})")
        lacking = [c.name for c in front.configurations if ch not in c.accuracy_by_channel]
        if lacking:
            problems.append(f"channel {ch}: no accuracy table for {', '.join(lacking[:5])}"
                            f"{' ...' if len(lacking) > 5 else ''}")
        off_grid = [c.name for c in front.configurations
                    if ch in c.accuracy_by_channel and grid and sorted(c.accuracy_by_channel[ch]) != grid]
        if off_grid:
            problems.append(f"channel {ch}: tables of {', '.join(off_grid[:5])} are not on the snr_grid {grid}")
    return problems


def _number(where: str, value, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FrontFileError(f"{where}: expected a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise FrontFileError(f"{where}: {value} outside [{lo}, {hi}]")
    return float(value)


def _vector(where: str, value, depth: int, lo: float, hi: float) -> list[float]:
    if not isinstance(value, list) or len(value) != depth:
        raise FrontFileError(f"{where}: expected a list of {depth} numbers, got {value!r}")
    return [_number(f"{where}[{i}]", v, lo, hi) for i, v in enumerate(value)]


def _table(where: str, table) -> dict[float, float]:
    """An accuracy table SNR (dB) -> accuracy, checked."""
    table = table or {}
    if not isinstance(table, dict):
        raise FrontFileError(f"{where}: expected a mapping SNR -> accuracy")
    parsed = {}
    for k, v in table.items():
        try:
            snr = float(k)
        except (TypeError, ValueError):
            raise FrontFileError(f"{where}: key {k!r} is not an SNR in dB") from None
        parsed[_number(f"{where} key", snr)] = _number(f"{where}[{k}]", v, 0, 1)
    return parsed


def parse_front(data, source: str = "<front>") -> Front:
    if not isinstance(data, dict):
        raise FrontFileError(f"{source}: top level must be a mapping, got {type(data).__name__}")
    for key in ("format", "model", "depth", "configurations", "operating_points"):
        if key not in data:
            raise FrontFileError(f"{source}: missing required key {key!r}")
    if ("rate" in data) == ("rates" in data):
        raise FrontFileError(f"{source}: give 'rate' (a front for one rate) or 'rates' (a joint front), not both")
    if data["format"] != FORMAT_VERSION:
        raise FrontFileError(f"{source}: format {data['format']!r} not supported (expected {FORMAT_VERSION})")
    depth = int(_number(f"{source}: depth", data["depth"], 1, 1000))
    rate = int(_number(f"{source}: rate", data["rate"], 1, 10000)) if "rate" in data else None
    if rate is None and not (isinstance(data["rates"], list) and data["rates"]):
        raise FrontFileError(f"{source}: rates must list the joint front's rates")
    rates = {rate} if rate is not None else {int(_number(f"{source}: rates", r, 1, 10000)) for r in data["rates"]}
    confs, seen = [], set()
    if not isinstance(data["configurations"], list) or not data["configurations"]:
        raise FrontFileError(f"{source}: configurations must be a non-empty list")
    for i, c in enumerate(data["configurations"]):
        where = f"{source}: configurations[{i}]"
        if not isinstance(c, dict):
            raise FrontFileError(f"{where}: expected a mapping")
        name = c.get("name")
        if not isinstance(name, str) or not name:
            raise FrontFileError(f"{where}: needs a non-empty string 'name'")
        if name in seen:
            raise FrontFileError(f"{where}: duplicate name {name!r}")
        seen.add(name)
        has_r, has_t = c.get("ratios") is not None, c.get("thresholds") is not None
        if has_r == has_t:
            raise FrontFileError(f"{where} ({name}): give exactly one of 'ratios' or 'thresholds'")
        ratios = _vector(f"{where}.ratios", c["ratios"], depth, 0.0, 1.0) if has_r else None
        thresholds = _vector(f"{where}.thresholds", c["thresholds"], depth, -1.0, 1.0) if has_t else None
        by_snr = _table(f"{where}.accuracy_by_snr", c.get("accuracy_by_snr"))
        by_channel = c.get("accuracy_by_channel") or {}
        if not isinstance(by_channel, dict):
            raise FrontFileError(f"{where}.accuracy_by_channel: expected a mapping channel -> (SNR -> accuracy)")
        by_channel = {str(k): _table(f"{where}.accuracy_by_channel.{k}", v) for k, v in by_channel.items()}
        conf_rate = rate if rate is not None else int(_number(f"{where}.rate", c.get("rate"), 1, 10000))
        if conf_rate not in rates or (rate is not None and c.get("rate", rate) != rate):
            raise FrontFileError(f"{where}.rate: {c.get('rate')!r} is not one of this front's rates {sorted(rates)}")
        confs.append(Configuration(
            name, ratios, thresholds,
            _number(f"{where}.accuracy", c.get("accuracy"), 0.0, 1.0), by_snr,
            _number(f"{where}.gmacs", c.get("gmacs"), 0.0),
            _number(f"{where}.channel_uses", c.get("channel_uses"), 0.0),
            _number(f"{where}.img_per_s", c.get("img_per_s", 0.0), 0.0),
            _number(f"{where}.latency_ms", c.get("latency_ms", 0.0), 0.0), conf_rate, by_channel))
    ops = data["operating_points"]
    if not isinstance(ops, dict):
        raise FrontFileError(f"{source}: operating_points must be a mapping")
    for k, v in ops.items():
        if v is not None and v not in seen:
            raise FrontFileError(f"{source}: operating point {k} names unknown configuration {v!r}")
    return Front(str(data["model"]), rate, depth, confs, dict(ops), data)


def load_front(path: str | Path) -> Front:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise FrontFileError(f"cannot read front file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FrontFileError(f"{path}: not valid YAML: {exc}") from exc
    return parse_front(data, str(path))


def save_front(data: dict, path: str | Path) -> None:
    parse_front(data, str(path))           # never write a file the runtime would refuse
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
