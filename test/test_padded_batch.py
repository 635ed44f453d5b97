"""One padded forward pass for frames of different token counts gives each frame its one-frame result."""
import pytest
import timm
import torch

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.link.channels import with_pilots
from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.core.link.jscc import JSCC
from semcom_ros.core.link.semantic_link import SemanticLink
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.model.models import LoadedModel
from semcom_ros.core.link.padded_batch import ReceivedFrame, decode_frames, merges_on_server, padded_groups

PILOTS = 8


def frame_for(link, image, schedule, rate, snr_db=12.0, seed=0):
    """What the server would hold for ``image`` sent with ``schedule`` at ``rate`` over AWGN."""
    link.schedule = schedule
    link.rate = rate
    edge = link.edge(link.preprocess([image]))
    tx = with_pilots(edge.symbols, PILOTS, 1.0)
    g = torch.Generator().manual_seed(seed)
    noise_std = (10 ** (-snr_db / 10) / 2) ** 0.5
    noise = torch.complex(torch.randn(tx.shape, generator=g), torch.randn(tx.shape, generator=g)) * noise_std
    return ReceivedFrame.from_received((tx + noise)[0], PILOTS, edge.sizes[0], rate, schedule)


@pytest.fixture(scope="module", params=["garments", "default"])
def default_link(request):
    return load_bundle(request.param).link(4, all_rates=True)


def test_differently_merged_frames_at_different_rates_decode_together_as_they_do_alone(default_link):
    link = default_link
    data = load_embedded_eval()
    depth = link.depth
    schedules = [MergeSchedule.uniform(0.0, depth), MergeSchedule.uniform(0.3, depth),
                 MergeSchedule(thresholds=[0.9] * depth),
                 MergeSchedule(ratios=[0.5 * (i % 3 == 0) for i in range(depth)]),
                 MergeSchedule(thresholds=[0.6] * depth, mode="size")]
    frames = [frame_for(link, data.images[i], schedules[i % len(schedules)], link.rates[i % len(link.rates)],
                        seed=i) for i in range(10)]
    counts = {f.tokens for f in frames}
    assert len(counts) >= 4, f"the frames must differ in token count to test padding, got {counts}"
    assert len({f.rate for f in frames}) == len(link.rates)
    together = decode_frames(link, frames)
    alone = torch.cat([decode_frames(link, [f]) for f in frames])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-4)
    assert together.argmax(-1).tolist() == alone.argmax(-1).tolist()


def tiny_split_link(global_pool="avg", split=2):
    """A random 4-block ViT split after block ``split``: the server runs attention blocks itself."""
    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=4, in_chans=1,
                              num_classes=5, embed_dim=64, depth=4, num_heads=2, global_pool=global_pool,
                              class_token=global_pool == "token").eval()
    loaded = LoadedModel("tiny", model, None, tuple(str(i) for i in range(5)))
    return SemanticLink(loaded, {4: JSCC(64, 4).eval()}, split=split)


@pytest.mark.parametrize("pool", ["avg", "token"])
def test_padding_is_masked_in_the_server_blocks_attention_and_pooling(pool):
    link = tiny_split_link(pool)
    x = torch.randn(6, 1, 32, 32)
    frames = []
    for i, r in enumerate([0.0, 0.2, 0.45, 0.0, 0.3, 0.1]):
        link.schedule = MergeSchedule(ratios=[r, r, 0.0, 0.0])      # merges only on the edge side
        edge = link.edge(x[i:i + 1])
        frames.append(ReceivedFrame(edge.symbols[0], 10.0, edge.sizes[0], 4, link.schedule))
    assert len({f.tokens for f in frames}) >= 4
    together = decode_frames(link, frames)
    alone = torch.cat([decode_frames(link, [f]) for f in frames])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-4)

    # the mask is what makes this hold: the same padded batch without it gives other logits
    tokens = [link.codes[4].decode(f.symbols[None], torch.tensor([10.0]))[0] for f in frames]
    n = max(t.shape[0] for t in tokens)
    padded = torch.stack([torch.cat([t, t.new_zeros(n - t.shape[0], t.shape[1])]) for t in tokens])
    sizes = torch.stack([torch.cat([f.sizes, f.sizes.new_zeros(n - f.tokens)]) for f in frames])
    link.schedule = MergeSchedule.uniform(0.0, link.depth)
    unmasked = link.server(padded, sizes)
    short = [i for i, f in enumerate(frames) if f.tokens < n]
    assert not torch.allclose(unmasked[short], alone[short], atol=1e-3)


def test_frames_that_merge_on_the_server_side_run_alone_with_their_own_schedule():
    link = tiny_split_link("avg")
    x = torch.randn(3, 1, 32, 32)
    server_merging = MergeSchedule(ratios=[0.2, 0.0, 0.4, 0.4])
    edge_only = MergeSchedule(ratios=[0.2, 0.0, 0.0, 0.0])
    assert merges_on_server(link, server_merging) and not merges_on_server(link, edge_only)
    frames = []
    for i, s in enumerate([server_merging, edge_only, server_merging]):
        link.schedule = s
        edge = link.edge(x[i:i + 1])
        frames.append(ReceivedFrame(edge.symbols[0], 10.0, edge.sizes[0], 4, s))
    together = decode_frames(link, frames)
    # reference: the whole schedule in one plain pass (what the offline front measured)
    for i, f in enumerate(frames):
        link.schedule = f.schedule
        tokens = link.codes[4].decode(f.symbols[None], torch.tensor([10.0]))
        torch.testing.assert_close(together[i], link.server(tokens, f.sizes[None])[0], rtol=1e-4, atol=1e-4)
    assert link.schedule.ratios == frames[-1].schedule.ratios    # the caller's schedule is restored


def test_a_rate_the_link_has_no_code_for_is_refused(default_link):
    f = ReceivedFrame(torch.zeros(64 * 3, dtype=torch.complex64), 10.0, torch.ones(64), 3)
    with pytest.raises(KeyError, match="no JSCC code for rate 3"):
        decode_frames(default_link, [f])


def test_passes_hold_frames_of_similar_length_up_to_the_padding_allowed():
    counts = [197, 60, 190, 100, 58, 197, 65]
    assert padded_groups(counts, 1.0) == [[0, 5, 2, 3, 6, 1, 4]]
    assert sorted(map(sorted, padded_groups(counts, 0.0))) == [[0, 5], [1], [2], [3], [4], [6]]
    for limit in (0.05, 0.2, 0.5):
        groups = padded_groups(counts, limit)
        assert sorted(i for g in groups for i in g) == list(range(len(counts)))
        for g in groups:
            longest = max(counts[i] for i in g)
            assert all(longest - counts[i] <= limit * longest for i in g)
    assert padded_groups(counts, 0.2) == [[0, 5, 2], [3], [6, 1, 4]]


def test_grouped_passes_give_the_same_logits(default_link):
    link = default_link
    data = load_embedded_eval()
    frames = [frame_for(link, data.images[i], MergeSchedule.uniform(r, link.depth), 4, seed=i)
              for i, r in enumerate([0.0, 0.3, 0.0, 0.1, 0.3, 0.05])]
    torch.testing.assert_close(decode_frames(link, frames, 0.1), decode_frames(link, frames, 1.0),
                               rtol=1e-4, atol=1e-4)
