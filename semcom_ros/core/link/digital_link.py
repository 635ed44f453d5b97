"""The digital alternative counted in channel uses (METHOD §8): bits through a channel code.

A frame of ``bits`` (a compressed image or a class label) is given ``n``
complex channel uses. Three codes:

- ``ideal``: capacity-achieving at infinite block length. Delivered iff
  ``bits <= n·log2(1 + SNR_eff)``; otherwise lost whole (the digital "cliff",
  the outage event on block fading).
- ``practical``: adaptive modulation and coding from the LTE/NR CQI table.
  The transmitter picks the most efficient MCS whose threshold is at most the
  SNR it last knew, splits the frame into packets, and needs
  ``Σ ceil(packet_bits / η)`` channel uses; a packet received below the MCS's
  threshold is lost, and a frame with a lost packet is lost. A frame that
  does not fit in ``n`` channel uses at the chosen MCS is not sent (lost).
- ``robust``: the same table, but the most robust MCS the frame fits in ``n``
  channel uses (the best any fixed-threshold MCS choice can do at that budget).

No partial decoding: a lost frame is never classified correctly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Mcs:
    index: int
    modulation: str
    efficiency: float      # information bits per complex channel use
    threshold_db: float    # SNR at which a block reaches the 10 % block error rate target


# Spectral efficiencies: 3GPP TS 36.213 Table 7.2.3-1 (= TS 38.214 Table 5.2.2.1-2, NR CQI table 1).
# Thresholds (SNR for 10 % BLER on AWGN) are not in the standard; these are the values widely used in
# LTE/NR system-level studies for that table (link-level simulations, e.g. the Vienna LTE simulators).
CQI_TABLE: tuple[Mcs, ...] = tuple(Mcs(i + 1, mod, eff, thr) for i, (mod, eff, thr) in enumerate((
    ("QPSK", 0.1523, -6.7), ("QPSK", 0.2344, -4.7), ("QPSK", 0.3770, -2.3), ("QPSK", 0.6016, 0.2),
    ("QPSK", 0.8770, 2.4), ("QPSK", 1.1758, 4.3), ("16QAM", 1.4766, 5.9), ("16QAM", 1.9141, 8.1),
    ("16QAM", 2.4063, 10.3), ("64QAM", 2.7305, 11.7), ("64QAM", 3.3223, 14.1), ("64QAM", 3.9023, 16.3),
    ("64QAM", 4.5234, 18.7), ("64QAM", 5.1152, 21.0), ("64QAM", 5.5547, 22.7))))

PACKET_BYTES = 1500      # an Ethernet/IP MTU: what a camera pipeline's UDP datagrams are cut into


def capacity_bits(n: float, snr_db: float) -> float:
    """Bits ``n`` complex channel uses carry at ``snr_db`` with an ideal code: n·log2(1 + SNR)."""
    return n * math.log2(1.0 + 10.0 ** (snr_db / 10.0))


def ideal_delivered(bits: float, n: float, snr_eff_db: float) -> bool:
    """A capacity-achieving code: the whole frame arrives iff it fits the channel's capacity."""
    return bits <= capacity_bits(n, snr_eff_db)


def ideal_uses(bits: float, snr_db: float) -> float:
    """Channel uses an ideal code needs for ``bits`` at ``snr_db``."""
    return bits / capacity_bits(1.0, snr_db)


def choose_mcs(known_snr_db: float, table: Sequence[Mcs] = CQI_TABLE) -> Mcs:
    """The most efficient MCS whose threshold is at most the SNR the transmitter knows (else the most robust)."""
    usable = [m for m in table if m.threshold_db <= known_snr_db]
    return max(usable, key=lambda m: m.efficiency) if usable else min(table, key=lambda m: m.threshold_db)


def packet_sizes(bits: int, packet_bytes: int = PACKET_BYTES) -> list[int]:
    """A frame of ``bits`` cut into packets of at most ``packet_bytes`` (sizes in bits)."""
    if bits <= 0:
        raise ValueError("a frame has at least one bit")
    full, rest = divmod(int(bits), 8 * packet_bytes)
    return [8 * packet_bytes] * full + ([rest] if rest else [])


def mcs_uses(bits: int, mcs: Mcs, packet_bytes: int = PACKET_BYTES) -> int:
    """Channel uses the frame takes at ``mcs``: each packet rounded up to whole channel uses."""
    return sum(math.ceil(p / mcs.efficiency) for p in packet_sizes(bits, packet_bytes))


@dataclass(frozen=True)
class PracticalOutcome:
    mcs: Mcs
    uses: int            # channel uses the frame needs at that MCS
    sent: bool           # it fit in the channel uses it was given
    delivered: bool      # sent, and every packet decoded


def practical_send(bits: int, n: float, known_snr_db: float, snr_eff_db: float,
                   table: Sequence[Mcs] = CQI_TABLE, packet_bytes: int = PACKET_BYTES) -> PracticalOutcome:
    """One frame through adaptive modulation and coding: MCS from the known SNR, packets at the true one.

    On block fading every packet of a frame sees the same ``snr_eff_db``, so a
    frame is delivered iff it fits and that SNR reaches the MCS's threshold.
    """
    mcs = choose_mcs(known_snr_db, table)
    uses = mcs_uses(bits, mcs, packet_bytes)
    sent = uses <= n
    return PracticalOutcome(mcs, uses, sent, sent and snr_eff_db >= mcs.threshold_db)


CODES = ("ideal", "practical", "robust")


def ways_to_arrive(bits: int, known_snr_db: float, snr_eff_db: float, code: str,
                   table: Sequence[Mcs] = CQI_TABLE, packet_bytes: int = PACKET_BYTES) -> list[tuple[float, float]]:
    """How one frame can arrive: pairs (channel uses it needs, SNR it needs).

    It arrives in ``n`` channel uses at ``snr_eff_db`` iff one pair has uses <= n
    and SNR <= snr_eff_db; a benchmark can then sweep n without sending again.
    """
    if code == "ideal":
        return [(ideal_uses(bits, snr_eff_db), -math.inf)]
    if code == "practical":
        mcs = choose_mcs(known_snr_db, table)
        return [(mcs_uses(bits, mcs, packet_bytes), mcs.threshold_db)]
    if code == "robust":
        return [(mcs_uses(bits, m, packet_bytes), m.threshold_db) for m in table]
    raise ValueError(f"unknown code {code!r}; use one of {CODES}")


def label_bits(classes: int) -> int:
    """Bits of a class index: ceil(log2 C), at least one."""
    if classes < 1:
        raise ValueError("at least one class")
    return max(1, math.ceil(math.log2(classes)))


def scored(predicted: Sequence[int], labels: Sequence[int], delivered: Sequence[bool],
           hold_last: bool = False) -> list[bool]:
    """Per frame: was the result right? A lost frame is wrong.

    With ``hold_last`` a lost frame repeats the label of the last frame that
    arrived (wrong before any has).
    """
    out, held = [], None
    for p, y, ok in zip(predicted, labels, delivered, strict=True):
        if ok:
            held = p
        out.append(bool(ok and p == y) if not hold_last else held is not None and held == y)
    return out


def intact_frames(arrived: Sequence[bool], keyframe: Sequence[bool]) -> list[bool]:
    """Which frames of a video stream decode to the picture that was sent.

    A frame that arrived, all of whose references arrived too (every frame
    since the last I-frame); the others show the decoder's concealment at best.
    """
    out, chain = [], False
    for ok, key in zip(arrived, keyframe, strict=True):
        chain = ok and (key or chain)
        out.append(chain)
    return out
