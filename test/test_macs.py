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
