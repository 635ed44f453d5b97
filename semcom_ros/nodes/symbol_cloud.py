"""Channel symbols as ``sensor_msgs/PointCloud2``, ROS's self-describing record array, in one of several formats.

One record per transmitted token (pilot records first, ``size = 0``), with the
token's m complex symbols, ``size`` (patches the token holds) and ``config``
(index of the configuration in the front file, the same in every record). The
symbol format is a registered class (``@register_format``); the receiver tells
formats apart by their field names, so a frame says how to read itself:

- ``float32``: ``re0, im0, ..., re{m-1}, im{m-1}, size, config``, all float32
  (8 bytes a symbol; the default, exact);
- ``int8``: ``qre0, qim0, ...`` int8, ``scale`` float32, ``size`` and
  ``config`` uint16 (2 bytes a symbol); ``int4``: ``iq0, ...`` one uint8 per
  symbol, I in the high and Q in the low nibble (1 byte a symbol). A symbol
  component is ``q · scale / L`` with ``L = 2^(bits-1) - 1`` and one scale per
  frame (the largest component), so quantizing costs accuracy only, never
  range. For links that carry bytes (Wi-Fi, Ethernet) rather than an analogue
  channel;
- ``coded8``, ``coded4``: the int8/int4 values entropy-coded per frame
  (``core/link/symbol_coding.py``): the whole frame is one blob, one ``uint8``
  record per byte in a field named after the format (a whole-frame format).

Anything malformed raises ``MessageError`` with the reason.
"""
from __future__ import annotations

import functools

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField

from ..core.link import symbol_coding
from .msg_convert import MessageError

POINT_TYPES = {np.dtype("int8"): PointField.INT8, np.dtype("uint8"): PointField.UINT8,
               np.dtype("uint16"): PointField.UINT16, np.dtype("float32"): PointField.FLOAT32}

SYMBOL_FORMATS: dict[str, type["SymbolFormat"]] = {}


def register_format(cls):
    """File a symbol format under its ``name``: the camera's ``symbol_format`` choices come from here."""
    SYMBOL_FORMATS[cls.name] = cls
    return cls


class SymbolFormat:
    name = ""
    meta: tuple[tuple[str, str], ...] = (("size", "<f4"), ("config", "<f4"))
    whole_frame = False        # True: the frame is one coded blob (``encode``/``decode``), not records

    @classmethod
    def symbol_fields(cls, m: int) -> list[tuple[str, str]]:
        raise NotImplementedError

    @classmethod
    def symbols_per_record(cls, n_fields: int) -> int | None:
        """m for a record of ``n_fields`` fields, or None if none fits."""
        raise NotImplementedError

    @classmethod
    def fields(cls, m: int) -> list[tuple[str, str]]:
        return cls.symbol_fields(m) + list(cls.meta)

    @classmethod
    def dtype(cls, m: int) -> np.dtype:
        return np.dtype(cls.fields(m))        # packed: offsets follow one another, as PointField offsets say

    @classmethod
    def pack(cls, symbols: np.ndarray, rec: np.ndarray) -> None:
        """Write (records, m) complex symbols into the record array's symbol fields (and scale)."""
        raise NotImplementedError

    @classmethod
    def unpack(cls, rec: np.ndarray, m: int) -> np.ndarray:
        """(records, m) complex64 symbols from the record array."""
        raise NotImplementedError


@register_format
class Float32Symbols(SymbolFormat):
    name = "float32"

    @classmethod
    def symbol_fields(cls, m):
        return [(f"{p}{i}", "<f4") for i in range(m) for p in ("re", "im")]

    @classmethod
    def symbols_per_record(cls, n_fields):
        return (n_fields - 2) // 2 if n_fields >= 4 and n_fields % 2 == 0 else None

    @classmethod
    def pack(cls, symbols, rec):
        for i in range(symbols.shape[1]):
            rec[f"re{i}"], rec[f"im{i}"] = symbols[:, i].real, symbols[:, i].imag

    @classmethod
    def unpack(cls, rec, m):
        flat = rec.view(rec.dtype["re0"]).reshape(len(rec), -1)      # every field is float32: one 2-D view
        return (flat[:, 0:2 * m:2] + 1j * flat[:, 1:2 * m:2]).astype(np.complex64)


class QuantizedSymbols(SymbolFormat):
    """I and Q as signed integers of ``bits`` bits with one float32 scale per frame."""

    bits = 8
    meta = (("scale", "<f4"), ("size", "<u2"), ("config", "<u2"))

    @classmethod
    def levels(cls) -> int:
        return 2 ** (cls.bits - 1) - 1

    @classmethod
    def quantize(cls, x: np.ndarray, scale: float) -> np.ndarray:
        return np.clip(np.rint(x / scale * cls.levels()), -cls.levels(), cls.levels()).astype(np.int8)

    @classmethod
    def scale_of(cls, symbols: np.ndarray) -> float:
        peak = float(max(np.abs(symbols.real).max(initial=0.0), np.abs(symbols.imag).max(initial=0.0)))
        return peak if peak > 0 else 1.0

    @classmethod
    def dequantize(cls, q: np.ndarray, rec: np.ndarray) -> np.ndarray:
        return q.astype(np.float32) * (rec["scale"][:, None] / cls.levels())


@register_format
class Int8Symbols(QuantizedSymbols):
    name, bits = "int8", 8

    @classmethod
    def symbol_fields(cls, m):
        return [(f"q{p}{i}", "i1") for i in range(m) for p in ("re", "im")]

    @classmethod
    def symbols_per_record(cls, n_fields):
        return (n_fields - 3) // 2 if n_fields >= 5 and n_fields % 2 == 1 else None

    @classmethod
    def pack(cls, symbols, rec):
        rec["scale"] = scale = cls.scale_of(symbols)
        re, im = cls.quantize(symbols.real, scale), cls.quantize(symbols.imag, scale)
        for i in range(symbols.shape[1]):
            rec[f"qre{i}"], rec[f"qim{i}"] = re[:, i], im[:, i]

    @classmethod
    def unpack(cls, rec, m):
        re = cls.dequantize(np.stack([rec[f"qre{i}"] for i in range(m)], axis=1), rec)
        im = cls.dequantize(np.stack([rec[f"qim{i}"] for i in range(m)], axis=1), rec)
        return (re + 1j * im).astype(np.complex64)


@register_format
class Int4Symbols(QuantizedSymbols):
    name, bits = "int4", 4

    @classmethod
    def symbol_fields(cls, m):
        return [(f"iq{i}", "u1") for i in range(m)]

    @classmethod
    def symbols_per_record(cls, n_fields):
        return n_fields - 3 if n_fields >= 4 else None

    @classmethod
    def pack(cls, symbols, rec):
        rec["scale"] = scale = cls.scale_of(symbols)
        re, im = cls.quantize(symbols.real, scale), cls.quantize(symbols.imag, scale)
        iq = ((re.astype(np.uint8) & 0x0F) << 4) | (im.astype(np.uint8) & 0x0F)     # two's complement nibbles
        for i in range(symbols.shape[1]):
            rec[f"iq{i}"] = iq[:, i]

    @classmethod
    def unpack(cls, rec, m):
        iq = np.stack([rec[f"iq{i}"] for i in range(m)], axis=1).astype(np.int16)
        nibble = lambda v: np.where(v >= 8, v - 16, v)     # noqa: E731  (sign of a 4-bit two's complement)
        return (cls.dequantize(nibble(iq >> 4), rec) + 1j * cls.dequantize(nibble(iq & 0x0F), rec)).astype(np.complex64)


class CodedSymbols(SymbolFormat):
    """Quantized symbols, entropy-coded per frame; the cloud holds the coded bytes."""

    bits = 8
    meta = ()
    whole_frame = True

    @classmethod
    def symbol_fields(cls, m):
        return [(cls.name, "u1")]

    @classmethod
    def symbols_per_record(cls, n_fields):
        return 1 if n_fields == 1 else None

    @classmethod
    def encode(cls, symbols: np.ndarray, sizes: np.ndarray, m: int, config: int) -> bytes:
        return symbol_coding.encode(symbols, sizes, m, config, cls.bits)

    @classmethod
    def decode(cls, data: bytes) -> tuple[np.ndarray, np.ndarray, int, int]:
        try:
            return symbol_coding.decode(data)
        except symbol_coding.CodingError as exc:
            raise MessageError(f"coded channel symbols: {exc}") from exc


@register_format
class Coded8Symbols(CodedSymbols):
    name, bits = "coded8", 8


@register_format
class Coded4Symbols(CodedSymbols):
    name, bits = "coded4", 4


@functools.cache
def layout(fmt: type[SymbolFormat], m: int) -> tuple[np.dtype, tuple[tuple[str, int, int], ...]]:
    """A format's record dtype for m symbols and its (name, offset, PointField type) per field, made once."""
    dtype = fmt.dtype(m)
    return dtype, tuple((name, dtype.fields[name][1], POINT_TYPES[dtype.fields[name][0]]) for name in dtype.names)


def point_fields(fmt: type[SymbolFormat], m: int) -> list[PointField]:
    return [PointField(name=name, offset=offset, datatype=kind, count=1) for name, offset, kind in layout(fmt, m)[1]]


def symbol_format(name: str) -> type[SymbolFormat]:
    if name not in SYMBOL_FORMATS:
        raise ValueError(f"unknown symbol format {name!r}; use one of {', '.join(SYMBOL_FORMATS)}")
    return SYMBOL_FORMATS[name]


def symbols_to_cloud(symbols: np.ndarray, sizes: np.ndarray, m: int, header=None, config: int = -1,
                     fmt: str = "float32") -> PointCloud2:
    """(k,) complex symbols in token order + (k/m,) sizes -> PointCloud2, one record per token."""
    form = symbol_format(fmt)
    symbols = np.asarray(symbols, dtype=np.complex64).reshape(-1, m)
    sizes = np.asarray(sizes, dtype=np.float32).reshape(-1)
    if len(sizes) != len(symbols):
        raise MessageError(f"{len(symbols)} symbol records but {len(sizes)} sizes")
    if form.whole_frame:
        if config < 0:
            raise ValueError(f"the {form.name} format needs a configuration index >= 0, got {config}")
        return _cloud(header, form, 1, np.frombuffer(form.encode(symbols, sizes, m, config), np.uint8))
    rec = np.zeros(len(sizes), dtype=layout(form, m)[0])
    if rec.dtype["config"].kind == "u" and config < 0:
        raise ValueError(f"the {form.name} format needs a configuration index >= 0, got {config}")
    form.pack(symbols, rec)
    rec["size"], rec["config"] = np.rint(sizes) if rec.dtype["size"].kind == "u" else sizes, config
    return _cloud(header, form, m, rec)


def _cloud(header, form: type[SymbolFormat], m: int, rec: np.ndarray) -> PointCloud2:
    msg = PointCloud2()
    if header is not None:
        msg.header = header
    msg.height, msg.width = 1, len(rec)
    msg.fields = point_fields(form, m)
    msg.is_bigendian = False
    msg.point_step = rec.dtype.itemsize
    msg.row_step = msg.point_step * msg.width
    msg.is_dense = True
    msg.data = rec.tobytes()
    return msg


def format_of(msg: PointCloud2) -> tuple[type[SymbolFormat], int]:
    """The symbol format a cloud's field names say, and m; checks types and offsets."""
    names = [f.name for f in msg.fields]
    for form in SYMBOL_FORMATS.values():
        m = form.symbols_per_record(len(names))
        if m is None or names != [name for name, _, _ in layout(form, m)[1]]:
            continue
        for f, (_, offset, kind) in zip(msg.fields, layout(form, m)[1]):
            if (f.offset, f.datatype, f.count) != (offset, kind, 1):
                raise MessageError(f"field {f.name!r} (offset {f.offset}, type {f.datatype}) does not follow the "
                                   f"{form.name} symbol layout (expected type {kind} at {offset})")
        return form, m
    raise MessageError(f"not a channel-symbol cloud: fields {names} (formats: {', '.join(SYMBOL_FORMATS)})")


def cloud_to_symbols(msg: PointCloud2) -> tuple[np.ndarray, np.ndarray, int, int]:
    """PointCloud2 -> (records, m) complex symbols, (records,) sizes, m, config index. Checks everything."""
    return read_cloud(msg)[1:]


def read_cloud(msg: PointCloud2) -> tuple[str, np.ndarray, np.ndarray, int, int]:
    """``cloud_to_symbols`` with the frame's symbol format name first (what a relay sends on in)."""
    form, m = format_of(msg)
    dtype = layout(form, m)[0]
    n = int(msg.width) * int(msg.height)
    if msg.point_step != dtype.itemsize or n == 0:
        raise MessageError(f"point_step {msg.point_step} / {n} records do not fit {m} {form.name} symbols per record")
    if len(msg.data) != n * msg.point_step:
        raise MessageError(f"cloud data has {len(msg.data)} bytes, {n} records need {n * msg.point_step}")
    if form.whole_frame:
        symbols, sizes, m, config = form.decode(bytes(msg.data))
        return form.name, symbols, sizes, m, config
    rec = np.frombuffer(msg.data, dtype=dtype.newbyteorder(">") if msg.is_bigendian else dtype, count=n)
    symbols, sizes, config = form.unpack(rec, m), rec["size"].astype(np.float32), rec["config"]
    # a NaN or Inf anywhere (a quantized frame's scale included) shows in the decoded values
    bad = int((~np.isfinite(symbols.view(np.float32))).sum() + (~np.isfinite(sizes)).sum()
              + (~np.isfinite(config)).sum())
    if bad:
        raise MessageError(f"{bad} NaN/Inf values in channel symbols")
    if (config != config[0]).any() or config[0] != round(float(config[0])):
        raise MessageError("the config field must hold one integer for the whole frame")
    if "scale" in dtype.names and ((rec["scale"] != rec["scale"][0]).any() or not rec["scale"][0] > 0):
        raise MessageError("the scale field must hold one positive value for the whole frame")
    return form.name, symbols, sizes, m, int(config[0])


def data_symbols(msg: PointCloud2) -> float:
    """Channel uses a frame's tokens take, pilots excluded: what a channel budget charges for it."""
    _, sizes, m, _ = cloud_to_symbols(msg)
    return float((sizes > 0).sum()) * m
