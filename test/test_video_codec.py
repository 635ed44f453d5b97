"""The video baselines' stream: real H.264/H.265 packets, their accounting, and decoding after a loss."""
import numpy as np
import pytest

from semcom_ros.core.data.scene_sets import shelf_stream
from semcom_ros.core.data.video_codec import VideoDecoder, VideoEncoder, VideoSettings, decode_stream, encode_stream
from semcom_ros.core.link.digital_link import CQI_TABLE, intact_frames, mcs_uses, packet_sizes


@pytest.fixture(scope="module")
def frames():
    stream = shelf_stream(speed=0.5, width=160, height=120)
    return [stream.frame(t)[0] for t in range(24)]


def test_one_packet_per_frame_with_i_frames_every_gop(frames):
    packets = encode_stream(frames, VideoSettings(gop=8, crf=28))
    assert len(packets) == len(frames)
    assert [p.keyframe for p in packets] == [t % 8 == 0 for t in range(24)]
    sizes = [len(p.data) for p in packets]
    assert min(sizes) > 0
    # an I-frame carries the whole picture, a P-frame only what changed while the robot pans
    assert all(sizes[k] > 1.5 * np.median([sizes[k + j] for j in range(1, 8)]) for k in (0, 8, 16))


def test_inter_frames_exploit_the_overlap_of_consecutive_frames(frames):
    every = sum(len(p.data) for p in encode_stream(frames, VideoSettings(gop=1, crf=28)))
    grouped = sum(len(p.data) for p in encode_stream(frames, VideoSettings(gop=12, crf=28)))
    assert grouped < 0.6 * every
    h265 = sum(len(p.data) for p in encode_stream(frames, VideoSettings(codec="h265", gop=12, crf=28)))
    assert 0 < h265 < every


def test_a_frame_is_intact_only_while_its_chain_since_the_i_frame_arrived():
    arrived = [True, True, False, True, True, True, True, False, True]
    keyframe = [True, False, False, False, True, False, False, False, True]
    assert intact_frames(arrived, keyframe) == [True, True, False, False, True, True, True, False, True]
    assert intact_frames([False, True], [True, False]) == [False, False]          # no I-frame yet: nothing


def test_packet_accounting_of_a_video_frame_by_hand():
    # a 3 502-byte P-frame: two 1 500-byte datagrams and one of 502 bytes
    assert packet_sizes(8 * 3502) == [12000, 12000, 4016]
    # at CQI 7 (16QAM, 1.4766 bits a channel use): ceil(12000/1.4766) = 8127 twice, ceil(4016/1.4766) = 2720
    assert mcs_uses(8 * 3502, CQI_TABLE[6]) == 8127 + 8127 + 2720


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_after_a_lost_frame_the_picture_is_wrong_until_the_next_i_frame(frames, codec):
    packets = encode_stream(frames[:16], VideoSettings(codec=codec, gop=8, crf=28))
    clean = decode_stream(packets, [True] * 16, codec)
    lost = decode_stream(packets, [t != 3 for t in range(16)], codec)
    assert all(c is not None for c in clean)
    for t in range(3):
        assert np.array_equal(lost[t], clean[t])
    assert lost[3] is None                                              # nothing arrived for it
    for t in range(4, 8):                                               # concealed (H.264) or refused (H.265)
        assert lost[t] is None or np.abs(lost[t].astype(int) - clean[t].astype(int)).mean() > 0.5
    for t in range(8, 16):                                              # the I-frame repairs the picture
        assert np.array_equal(lost[t], clean[t])
    assert lost[4] is not None or codec == "h265"                       # H.264 shows what it could conceal


def test_bad_settings_frames_and_packets_are_refused():
    with pytest.raises(ValueError, match="unknown video codec"):
        VideoSettings(codec="vp8")
    with pytest.raises(ValueError, match="gop"):
        VideoSettings(gop=0)
    with pytest.raises(ValueError, match="crf or a kbps"):
        VideoSettings(crf=20, kbps=500)
    with pytest.raises(ValueError, match="even"):
        VideoEncoder(VideoSettings(), 161, 120)
    enc = VideoEncoder(VideoSettings(), 160, 120)
    with pytest.raises(ValueError, match="160x120|120x160"):
        enc.encode(np.zeros((120, 160), np.uint8))
    dec = VideoDecoder("h264")
    assert dec.decode(b"\x00\x00\x00\x01garbage-not-a-nal-unit") is None          # counted or ignored, never raised
    assert dec.decode(None) is None


def test_video_messages_round_trip_and_a_receiver_that_joins_late_waits_for_an_i_frame(frames):
    from sensor_msgs.msg import CompressedImage

    from semcom_ros.nodes.msg_convert import MessageError
    from semcom_ros.nodes.video_transport import VideoReceiver, VideoSender

    sender = VideoSender(VideoSettings(gop=4, crf=20))
    msgs = [sender.message(f) for f in frames[:9]]
    assert {m.format for m in msgs} == {"h264"}
    first = VideoReceiver().frame(msgs[0])
    assert first.shape == frames[0].shape and np.abs(first.astype(int) - frames[0].astype(int)).mean() < 4
    late = VideoReceiver()
    shown = [late.frame(m) for m in msgs[1:]]                # frames 1..8: the I-frame is frame 4
    assert shown[:3] == [None, None, None] and all(s is not None for s in shown[3:])
    odd = sender.message(np.zeros((181, 243, 3), np.uint8))  # odd sizes are cut to even ones: a new stream
    assert VideoReceiver().frame(odd).shape == (180, 242, 3)
    for bad, reason in ((CompressedImage(format="h264"), "no data"),
                        (CompressedImage(format="vp9", data=[1]), "video")):
        with pytest.raises(MessageError, match=reason):
            VideoReceiver().frame(bad)
