"""Bit accounting of the digital baselines against hand-worked cases (METHOD §8)."""
import math

import numpy as np
import pytest

from semcom_ros.core.data import frame_codecs
from semcom_ros.core.link.digital_link import (CQI_TABLE, capacity_bits, choose_mcs, ideal_delivered, ideal_uses,
                                               label_bits, mcs_uses, packet_sizes, practical_send, scored,
                                               ways_to_arrive)


def test_capacity_of_hand_worked_links():
    assert capacity_bits(100, 0.0) == pytest.approx(100.0)                    # log2(1 + 1) = 1 bit per use
    assert capacity_bits(50, 10 * math.log10(3)) == pytest.approx(100.0)      # log2(1 + 3) = 2
    assert ideal_delivered(100, 100, 0.0) and not ideal_delivered(101, 100, 0.0)
    assert ideal_uses(100, 10 * math.log10(15)) == pytest.approx(25.0)        # log2(16) = 4


def test_mcs_choice_follows_the_thresholds():
    assert choose_mcs(8.1).index == 8 and choose_mcs(8.0).index == 7
    assert choose_mcs(30.0).index == 15 and choose_mcs(30.0).efficiency == pytest.approx(5.5547)
    assert choose_mcs(-20.0).index == 1            # below every threshold: the most robust one is tried
    effs = [m.efficiency for m in CQI_TABLE]
    thrs = [m.threshold_db for m in CQI_TABLE]
    assert effs == sorted(effs) and thrs == sorted(thrs)
    # every MCS stays below capacity at its own threshold (a table that beat Shannon would be wrong)
    assert all(m.efficiency < math.log2(1 + 10 ** (m.threshold_db / 10)) for m in CQI_TABLE)


def test_packets_and_channel_uses():
    assert packet_sizes(8 * 1500 * 2 + 100) == [12000, 12000, 100]
    assert packet_sizes(4) == [4]
    with pytest.raises(ValueError):
        packet_sizes(0)
    assert mcs_uses(4, CQI_TABLE[0]) == 27                                 # ceil(4 / 0.1523)
    assert mcs_uses(24000, CQI_TABLE[-1]) == 2 * math.ceil(12000 / 5.5547)
    assert mcs_uses(24000, CQI_TABLE[-1], packet_bytes=3000) == math.ceil(24000 / 5.5547)


def test_practical_link_adapts_late():
    late = practical_send(1000, n=10_000, known_snr_db=10.0, snr_eff_db=5.0)    # chose CQI 8, link fell to 5 dB
    assert late.mcs.index == 8 and late.sent and not late.delivered
    ok = practical_send(1000, n=10_000, known_snr_db=10.0, snr_eff_db=12.0)
    assert ok.delivered and ok.uses == math.ceil(1000 / 1.9141)
    tight = practical_send(1000, n=ok.uses - 1, known_snr_db=10.0, snr_eff_db=12.0)
    assert not tight.sent and not tight.delivered                             # does not fit: never sent


def test_label_bits():
    assert [label_bits(c) for c in (1, 2, 3, 10, 1000)] == [1, 1, 2, 4, 10]


def test_a_lost_frame_is_never_correct():
    labels = [1, 2, 3, 3]
    assert scored(labels, labels, [False] * 4) == [False] * 4
    assert scored(labels, labels, [True, False, True, False]) == [True, False, True, False]
    # holding the last label: right only where the held label happens to match
    assert scored(labels, labels, [False, True, True, False], hold_last=True) == [False, True, True, True]
    with pytest.raises(ValueError):
        scored(labels, labels, [True])


def test_codecs_count_whole_files_and_decode_what_they_encode():
    img = (np.arange(28 * 28) % 251).astype(np.uint8).reshape(28, 28)
    png = frame_codecs.encode(img, "png")
    assert np.array_equal(frame_codecs.decode(png, grey=True), img)          # lossless
    small, large = frame_codecs.encode(img, "jpeg", 10), frame_codecs.encode(img, "jpeg", 95)
    assert small[:2] == b"\xff\xd8" and len(small) < len(large)               # a whole JPEG file, headers too
    assert frame_codecs.decode(frame_codecs.encode(img, "webp", 50), grey=True).shape == (28, 28)
    with pytest.raises(ValueError, match="unknown codec"):
        frame_codecs.encode(img, "gif")


@pytest.mark.parametrize("seed", range(3))
def test_ways_to_arrive_agree_with_the_frame_by_frame_codes(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        bits, n = int(rng.integers(1, 40_000)), float(rng.integers(1, 20_000))
        known, eff = rng.uniform(-12, 30, 2)

        def arrives(code):
            return any(u <= n and eff >= t for u, t in ways_to_arrive(bits, known, eff, code))
        assert arrives("ideal") == ideal_delivered(bits, n, eff)
        assert arrives("practical") == practical_send(bits, n, known, eff).delivered
        # the most robust MCS that fits: at least as good as the late choice, never better than capacity
        assert arrives("robust") >= arrives("practical")
        assert not arrives("robust") or arrives("ideal")
    with pytest.raises(ValueError, match="unknown code"):
        ways_to_arrive(8, 0.0, 0.0, "turbo")
