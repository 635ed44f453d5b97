"""Analytic MAC counts against the published ViT-B/16 anchors (METHOD §1)."""
import pytest
import timm
import torch

from semcom_ros.core.model.macs import VitShape, gmacs, scheduled_token_counts
from semcom_ros.core.model.merging_vit import MergeSchedule, apply_merging


@pytest.fixture(scope="module")
def vit_base_shape():
    with torch.device("meta"):  # shapes only: no memory, no weights
        model = timm.create_model("vit_base_patch16_224", pretrained=False)
    return VitShape.of(model)


def test_vit_base_unmerged_is_17_56_gmacs(vit_base_shape):
    assert gmacs(vit_base_shape) == pytest.approx(17.56, rel=0.005)


@pytest.mark.parametrize("ratio,low,high", [(0.10, 9.9, 10.1), (0.15, 7.5, 7.7), (0.20, 5.9, 6.1)])
def test_uniform_schedules_match_published_figures(vit_base_shape, ratio, low, high):
    tokens = scheduled_token_counts(vit_base_shape, [ratio] * vit_base_shape.depth)
    assert low <= gmacs(vit_base_shape, tokens) <= high


def test_count_uses_tokens_the_model_actually_produces():
    torch.manual_seed(0)
    model = apply_merging(timm.create_model("vit_tiny_patch16_224", img_size=64, pretrained=False).eval())
    shape = VitShape.of(model)
    ratios = [0.5, 0.0, 0.3, 0.1, 0.0, 0.2, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0]
    model.merge_schedule = MergeSchedule(ratios=ratios)
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    assert model.merge_state.tokens_per_layer == scheduled_token_counts(shape, ratios)
    # fewer tokens can only cost less, and every block's count matters
    merged = gmacs(shape, model.merge_state.tokens_per_layer)
    assert merged < gmacs(shape)
    assert gmacs(shape, [16] * 11 + [15]) < gmacs(shape, [16] * 12)


def test_wrong_number_of_counts_is_an_error(vit_base_shape):
    with pytest.raises(ValueError, match="12 blocks"):
        gmacs(vit_base_shape, [100] * 11)


def test_edge_macs_by_hand_for_a_tiny_shape():
    from semcom_ros.core.model.macs import VitShape, edge_macs, macs

    shape = VitShape(dim=4, depth=2, mlp_hidden=16, num_patches=6, prefix=1, patch_macs=100, head_macs=40)
    # block 1 without merging: 4*7*16 + 2*49*4 + 2*16*7*4 = 448 + 392 + 896 = 1736; encoder 7 tokens x (4*8 + 8*2*3)
    assert edge_macs(shape, None, 1, jscc_hidden=8, symbols_per_token=3) == 100 + 1736 + 7 * (32 + 48)
    # merged to 3 patches in block 1: attention at 7 tokens, MLP at 4: 448 + 392 + 2*16*4*4 = 1352; 4 tokens sent
    assert edge_macs(shape, [3, 3], 1) == 100 + 1352
    assert edge_macs(shape, None, 2) == macs(shape) - 40                  # the whole model but its head
