"""Entropy-coded channel symbols for links that carry bytes (Wi-Fi, Ethernet, 5G user plane).

A frame's complex symbols are quantized to ``bits``-bit integers per I and Q
(one scale per frame, the largest component, as the int8/int4 formats do),
then range-coded (ANS, ``constriction``) under a zero-mean quantized Gaussian
whose spread is measured on the frame and sent with it: JSCC symbols are
power-normalised and close to Gaussian, so this costs ~log2(σ·√(2πe)) bits
a component instead of ``bits``. Token sizes are small integers, mostly 1:
zlib takes them. A CRC-32 over the payload turns a corrupt frame into an
error instead of wrong symbols.

Layout: header ``<2sBBHIhffII`` (magic ``SC``, version, bits, m, records,
config, scale, σ, CRC-32, size bytes), the zlib'd uint16 sizes, the ANS words.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

MAGIC, VERSION = b"SC", 1
HEADER = struct.Struct("<2sBBHIhffII")
MIN_SIGMA = 0.3          # quantized units: keeps the model's probabilities finite for near-constant frames


class CodingError(ValueError):
    """A coded frame that cannot be decoded, with the reason."""


def levels(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def _model(bits: int):
    import constriction

    return constriction.stream.model.QuantizedGaussian(-levels(bits), levels(bits))


def encode(symbols: np.ndarray, sizes: np.ndarray, m: int, config: int, bits: int = 8) -> bytes:
    """(records, m) complex symbols, (records,) token sizes -> one coded frame."""
    import constriction

    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    z = np.asarray(symbols, np.complex64).reshape(-1, m)
    sizes = np.asarray(sizes)
    if len(sizes) != len(z):
        raise ValueError(f"{len(z)} symbol records but {len(sizes)} sizes")
    if not (np.isfinite(z.view(np.float32)).all() and np.isfinite(sizes).all()):
        raise ValueError("NaN/Inf in the symbols or sizes")
    comps = np.stack([z.real, z.imag], axis=-1).reshape(-1).astype(np.float32)
    peak = float(np.abs(comps).max(initial=0.0))
    scale = peak if peak > 0 else 1.0
    q = np.clip(np.rint(comps / scale * levels(bits)), -levels(bits), levels(bits)).astype(np.int32)
    sigma = float(np.float32(max(float(q.std()), MIN_SIGMA)))   # as the header stores it: both ends, one model
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(q, _model(bits), np.zeros(len(q)), np.full(len(q), sigma))
    words = coder.get_compressed().astype("<u4").tobytes()
    packed_sizes = zlib.compress(np.rint(sizes).astype("<u2").tobytes(), 9)
    payload = packed_sizes + words
    head = HEADER.pack(MAGIC, VERSION, bits, m, len(z), int(config), scale, sigma, zlib.crc32(payload),
                       len(packed_sizes))
    return head + payload


def decode(data: bytes) -> tuple[np.ndarray, np.ndarray, int, int]:
    """One coded frame -> (records, m) complex64 symbols, (records,) float32 sizes, m, config."""
    import constriction

    data = bytes(data)
    if len(data) < HEADER.size:
        raise CodingError(f"{len(data)} bytes: shorter than the {HEADER.size}-byte header")
    magic, version, bits, m, records, config, scale, sigma, crc, n_sizes = HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise CodingError(f"not a coded symbol frame (magic {magic!r}, version {version})")
    if bits not in (4, 8) or m < 1 or records < 1 or not (np.isfinite(scale) and scale > 0) \
            or not (np.isfinite(sigma) and sigma >= MIN_SIGMA):
        raise CodingError(f"implausible header: bits {bits}, m {m}, records {records}, scale {scale}, sigma {sigma}")
    payload = data[HEADER.size:]
    if zlib.crc32(payload) != crc:
        raise CodingError("CRC mismatch: the frame was truncated or corrupted on the way")
    words = payload[n_sizes:]
    if n_sizes > len(payload) or len(words) % 4:
        raise CodingError("the payload does not split into sizes and 32-bit code words")
    try:
        sizes = np.frombuffer(zlib.decompress(payload[:n_sizes]), "<u2")
    except zlib.error as exc:
        raise CodingError(f"token sizes do not decompress: {exc}") from exc
    if len(sizes) != records:
        raise CodingError(f"{len(sizes)} token sizes for {records} records")
    n = 2 * m * records
    try:
        coder = constriction.stream.stack.AnsCoder(np.frombuffer(words, "<u4").astype(np.uint32))
        q = coder.decode(_model(bits), np.zeros(n), np.full(n, sigma))
    except Exception as exc:      # constriction raises plain errors on exhausted or invalid words
        raise CodingError(f"symbols do not decode: {exc}") from exc
    comps = q.astype(np.float32) * (scale / levels(bits))
    z = (comps[0::2] + 1j * comps[1::2]).astype(np.complex64).reshape(records, m)
    return z, sizes.astype(np.float32), int(m), int(config)
