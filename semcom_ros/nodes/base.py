"""What every semcom_ros node shares: declared parameters, counters on /diagnostics, QoS."""
from __future__ import annotations

import functools
import os
import time
from collections import Counter
from typing import Any, Callable, Sequence

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# Frames between pipeline stages: reliable, but only the newest is kept, so a
# stage that falls behind skips frames instead of building a queue (latency stays bounded).
NEWEST_FRAME = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)


RELIABILITIES = ("best_effort", "reliable")


def image_qos(reliability: str = "best_effort") -> QoSProfile:
    """Camera frames: the sensor-data profile (best effort) or reliable, but depth 1 in both cases.

    rclpy's ``qos_profile_sensor_data`` keeps 5 frames; behind a busy model that
    is 5 frames of extra latency, so only the newest frame is kept here.
    """
    if reliability not in RELIABILITIES:
        raise ValueError(f"reliability must be one of {RELIABILITIES}, got {reliability!r}")
    if reliability == "reliable":
        return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT, durability=DurabilityPolicy.VOLATILE)


DDS_PROFILE_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"


def use_packaged_dds_profile() -> str | None:
    """Point Fast DDS at config/fastdds.xml unless the user already chose a profile file.

    Fast DDS's default shared-memory segment is too small for camera frames, so
    best-effort 640x480+ images between processes fall back to fragmented UDP and
    are lost; the profile gives each participant a 32 MiB segment. It must be in
    effect before the process creates its first participant (before rclpy.init).
    """
    rmw = os.environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    if not rmw.startswith("rmw_fastrtps") or os.environ.get(DDS_PROFILE_VARIABLE):
        return os.environ.get(DDS_PROFILE_VARIABLE)
    from ..core.bundle.resources import config_path

    try:
        os.environ[DDS_PROFILE_VARIABLE] = str(config_path("fastdds.xml"))
    except FileNotFoundError:
        return None
    return os.environ[DDS_PROFILE_VARIABLE]


class SequenceGaps:
    """Counts samples a subscription never saw, from the publishers' sequence numbers.

    With depth-1 queues a slow stage skips frames on purpose; this makes the
    skipping visible. Keyed by publisher so several publishers do not mix.
    """

    def __init__(self):
        self.last: dict[Any, int] = {}

    def see(self, info) -> int:
        seq = (info or {}).get("publication_sequence_number")
        if not seq:
            return 0
        gid = info.get("publisher_gid")
        key = bytes(gid["data"]) if isinstance(gid, dict) and "data" in gid else repr(gid)
        prev = self.last.get(key)
        self.last[key] = max(seq, prev or 0)
        return seq - prev - 1 if prev is not None and seq > prev + 1 else 0


def widen(prm: Parameter, declared) -> Parameter:
    """An integer (or integer array) given for a float (array) parameter, as that float; others unchanged.

    ``-p rate_hz:=10``, ``rate_hz: 10`` in a params file and ``ros2 param set ... rate_hz 10`` all
    arrive as integers; strings, booleans and other kinds still meet rclpy's type check.
    """
    declared = Parameter.Type(declared)
    if declared == Parameter.Type.DOUBLE and prm.type_ == Parameter.Type.INTEGER:
        return Parameter(prm.name, Parameter.Type.DOUBLE, float(prm.value))
    if declared == Parameter.Type.DOUBLE_ARRAY and prm.type_ == Parameter.Type.INTEGER_ARRAY:
        return Parameter(prm.name, Parameter.Type.DOUBLE_ARRAY, [float(v) for v in prm.value])
    return prm


def type_words(kind) -> str:
    """``Parameter.Type.DOUBLE_ARRAY`` -> 'a double array', for messages a user reads."""
    words = kind.name.lower().replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


class SemcomNode(Node):
    """A node with validated parameters and error counters published on /diagnostics.

    Subclasses declare parameters with ``param()``; values are checked by the
    declared range or choices and by ``validate_parameter`` before they are
    accepted, and ``on_parameters_changed`` is called after they are.
    """

    WARN_WINDOW_S = 10.0     # /diagnostics stays at WARN this long after the last counted problem

    def __init__(self, name: str, **kwargs):
        super().__init__(name, **kwargs)
        self.counters: Counter[str] = Counter()
        self._declaring = False
        self._choices: dict[str, Sequence[str]] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        self.defaults: dict[str, Any] = {}      # declared defaults, before overrides (the parameter reference)
        self._last_errors: dict[str, str] = {}
        self._error_times: dict[str, float] = {}
        self.incoming: dict[str, Any] = {}
        self.add_pre_set_parameters_callback(self._as_declared)
        self.add_on_set_parameters_callback(self._check_parameters)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE)
        self._diag_timer = self.create_timer(1.0, self.publish_diagnostics)
        self.add_post_set_parameters_callback(self._after_parameters)

    # --- parameters
    def param(self, name: str, default: Any, description: str, *, lo: float | None = None, hi: float | None = None,
              choices: Sequence[str] | None = None, read_only: bool = False) -> Any:
        desc = ParameterDescriptor(description=description, read_only=read_only)
        self.defaults[name] = default
        if choices:
            self._choices[name] = tuple(choices)
            desc.additional_constraints = "one of: " + ", ".join(choices)
        if lo is not None and hi is not None:
            if isinstance(default, bool) or not isinstance(default, (int, float)):
                raise TypeError(f"range on non-numeric parameter {name}")
            self._ranges[name] = (lo, hi)
            if isinstance(default, int):
                desc.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=1)]
            else:
                desc.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)]
        override = self._parameter_overrides.get(name)     # -p name:=value and params files
        if override is not None:
            self._parameter_overrides[name] = widen(override, Parameter.Type.from_parameter_value(default))
        self._declaring = True     # the constructor checks and applies initial values itself
        try:
            return self.declare_parameter(name, default, desc).value
        finally:
            self._declaring = False

    def p(self, name: str) -> Any:
        return self.get_parameter(name).value

    def validate_parameter(self, name: str, value: Any) -> str | None:
        """Return a reason to reject ``value``, or None. Override for cross-checks.

        ``self.incoming`` holds every parameter of the set call being checked, so a
        check of one parameter against another uses the other's new value.
        """
        return None

    def on_parameters_changed(self, names: set[str]) -> None:
        """Called after accepted changes."""

    def _as_declared(self, params):
        """Whole numbers for float parameters (as users type them); count what rclpy will refuse.

        rclpy rejects wrong types and out-of-range values before any callback sees
        them, so they are counted and worded here.
        """
        out = []
        for prm in params:
            if not self.has_parameter(prm.name):
                out.append(prm)
                continue
            declared = Parameter.Type(self.describe_parameter(prm.name).type)
            prm = widen(prm, declared)
            out.append(prm)
            lo, hi = self._ranges.get(prm.name, (None, None))
            if prm.type_ not in (declared, Parameter.Type.NOT_SET):
                self.count_error("rejected_parameters", f"{prm.name}: expects {type_words(declared)}, got "
                                 f"{type_words(prm.type_)} {prm.value!r}")
            elif lo is not None and isinstance(prm.value, (int, float)) and not lo <= prm.value <= hi:
                self.count_error("rejected_parameters", f"{prm.name}: {prm.value} outside [{lo}, {hi}]")
        return out

    def _check_parameters(self, params) -> SetParametersResult:
        # the whole batch, so cross-checks see an atomic change of several parameters together
        self.incoming = {prm.name: prm.value for prm in params}
        for prm in params:
            value = prm.value
            if isinstance(value, float) and value != value:
                return self._reject(prm.name, f"{prm.name}: NaN is not a valid value")
            if prm.name in self._choices and value not in self._choices[prm.name]:
                options = ", ".join(self._choices[prm.name])
                return self._reject(prm.name, f"{prm.name}: {value!r} is not one of {options}")
            reason = None if self._declaring else self.validate_parameter(prm.name, value)
            if reason:
                return self._reject(prm.name, reason)
        return SetParametersResult(successful=True)

    def _reject(self, name: str, reason: str) -> SetParametersResult:
        self.count_error("rejected_parameters", reason)
        return SetParametersResult(successful=False, reason=reason)

    def _after_parameters(self, params) -> None:
        if self._declaring:
            return
        try:
            self.on_parameters_changed({prm.name for prm in params})
        except Exception as exc:  # a change that fails to apply must not kill the node
            self.count_error("parameter_apply_errors", f"applying {[p.name for p in params]}: {exc}")

    # --- counters and diagnostics
    def count_error(self, counter: str, message: str, severe: bool = False) -> None:
        self.counters[counter] += 1
        self._last_errors[counter] = message
        self._error_times[counter] = time.monotonic()
        log = self.get_logger()
        (log.error if severe else log.warning)(message, throttle_duration_sec=2.0)

    def diagnostic_values(self) -> dict[str, Any]:
        """Extra key/values for this node's /diagnostics status."""
        return {}

    def lifecycle_values(self) -> dict[str, Any]:
        return {}

    def problem(self) -> str:
        """What keeps the node from doing its job (ERROR on /diagnostics), or ''."""
        return ""

    def standing_warning(self) -> str:
        """A lasting condition the user should fix (WARN on /diagnostics until it is gone), or ''."""
        return ""

    def publish_diagnostics(self) -> None:
        status = DiagnosticStatus(name=f"{self.get_name()}", hardware_id=self.get_fully_qualified_name())
        # WARN while trouble is recent; the counters keep the whole history
        recent = [self._last_errors[k] for k, t in self._error_times.items()
                  if time.monotonic() - t <= self.WARN_WINDOW_S]
        standing = self.standing_warning()
        recent += [standing] if standing else []
        status.level = DiagnosticStatus.WARN if recent else DiagnosticStatus.OK
        status.message = "; ".join(recent) if recent else "ok"
        problem = self.problem()
        if problem:
            status.level, status.message = DiagnosticStatus.ERROR, problem
        values = {**self.counters, **self.lifecycle_values(), **self.diagnostic_values()}
        status.values = [KeyValue(key=str(k), value=str(v)) for k, v in values.items()]
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)


def guarded(counter: str) -> Callable:
    """Decorator for callbacks: any exception is counted and logged, the node keeps running."""
    def wrap(fn):
        @functools.wraps(fn)     # keeps the signature: rclpy passes MessageInfo to two-argument callbacks
        def inner(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:
                if self.context.ok():      # after shutdown began, publishing fails by design: not an error
                    self.count_error(counter, f"{fn.__name__}: {type(exc).__name__}: {exc}")
        return inner
    return wrap


def now_s(node: Node) -> float:
    return node.get_clock().now().nanoseconds * 1e-9


def wall() -> float:
    return time.monotonic()
