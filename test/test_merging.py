"""Token merging inside timm ViTs: identity at r=0, eq. 2 counts, protected tokens, sizes."""
import math

import pytest
import timm
import torch

from semcom_ros.core.model.merging import bipartite_match, merge_tokens, num_to_merge
from semcom_ros.core.model.merging_vit import MergeSchedule, apply_merging

# Small variants of each family the issue names: the code paths are the same as at full size.
FAMILIES = {
    "vit_tiny": dict(name="vit_tiny_patch16_224", img_size=64),
    "deit_small_distilled": dict(name="deit_small_distilled_patch16_224", img_size=64),
    "layerscale": dict(name="vit_small_patch16_224", img_size=64, init_values=0.1),
    "avg_pool_no_cls": dict(name="vit_tiny_patch16_224", img_size=64, global_pool="avg", class_token=False,
                            fc_norm=True),
    "qk_norm": dict(name="vit_tiny_patch16_224", img_size=64, qk_norm=True),
    "registers": dict(name="vit_tiny_patch16_224", img_size=64, reg_tokens=4),
}


def make(family: str) -> torch.nn.Module:
    kw = dict(FAMILIES[family])
    name = kw.pop("name")
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, **kw).eval()
    if family == "layerscale":  # random init leaves LayerScale at 0.1; make it non-trivial
        for blk in model.blocks:
            blk.ls1.gamma.data.uniform_(0.2, 1.0)
            blk.ls2.gamma.data.uniform_(0.2, 1.0)
    return model


def image_batch(model, n=3):
    torch.manual_seed(1)
    return torch.randn(n, 3, *model.patch_embed.img_size)


@pytest.mark.parametrize("family", FAMILIES)
def test_zero_ratios_reproduce_timm_logits(family):
    model = make(family)
    x = image_batch(model)
    with torch.no_grad():
        reference = model(x)
        apply_merging(model)
        model.merge_schedule = MergeSchedule(ratios=[0.0] * len(model.blocks), prop_attn=True)
        merged = model(x)
    assert torch.allclose(reference, merged, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_merging_changes_output_and_follows_eq2(family):
    model = apply_merging(make(family))
    depth, n0 = len(model.blocks), model.patch_embed.num_patches
    ratios = [0.3, 0.0, 0.5, 0.9, 0.2, 0.1][:depth] + [0.1] * max(0, depth - 6)
    for mode in ("norm", "size"):
        model.merge_schedule = MergeSchedule(ratios=ratios, mode=mode, prop_attn=True)
        with torch.no_grad():
            out = model(image_batch(model))
        assert torch.isfinite(out).all()
        expected, n = [], n0
        for r in ratios:
            n -= min(math.floor(r * n), math.ceil(n / 2))
            expected.append(n)
        assert model.merge_state.tokens_per_layer == expected
        sizes = model.merge_state.sizes
        prefix = model.num_prefix_tokens
        assert torch.equal(sizes[:, :prefix], torch.ones_like(sizes[:, :prefix]))
        assert torch.equal(sizes[:, prefix:].sum(dim=1), torch.full_like(sizes[:, 0], n0))


def test_bipartite_cap_limits_merges_to_half():
    assert num_to_merge(0.9, 10) == 5
    assert num_to_merge(0.9, 11) == 6
    assert num_to_merge(0.1, 9) == 0
    assert num_to_merge(0.25, 8) == 2


def test_protected_tokens_stay_first_and_untouched():
    torch.manual_seed(0)
    prefix, n = 2, 12
    x = torch.randn(2, prefix + n, 8)
    m = bipartite_match(x, prefix, r=4)
    sizes = torch.ones(2, prefix + n, 1)
    merged, new_sizes, _ = merge_tokens(x, sizes, m, "norm")
    assert merged.shape == (2, prefix + n - 4, 8)
    assert torch.equal(merged[:, :prefix], x[:, :prefix])
    assert new_sizes.sum(dim=1).flatten().tolist() == [prefix + n] * 2


def test_norm_weighted_merge_matches_eq12():
    # tokens 0 (A) and 1 (B) identical direction, different norms; token 2 (A) orthogonal, 3 (B) elsewhere
    x = torch.tensor([[[1.0, 0.0], [3.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]])
    m = bipartite_match(x, prefix=0, r=1)
    merged, sizes, _ = merge_tokens(x, torch.ones(1, 4, 1), m, "norm")
    # the merged destination is (|x0| x0 + |x1| x1) / (|x0| + |x1|) = (1*1 + 3*3)/4 = 2.5
    dest = merged[0, -2]  # B tokens come last, in their original order
    assert torch.allclose(dest, torch.tensor([2.5, 0.0]), atol=1e-5)
    merged_size, _, _ = merge_tokens(x, torch.ones(1, 4, 1), m, "size")
    assert torch.allclose(merged_size[0, -2], torch.tensor([2.0, 0.0]), atol=1e-5)
    assert sizes[0, :, 0].tolist() == [1.0, 2.0, 1.0]


def test_source_map_tracks_which_patches_each_token_holds():
    model = apply_merging(make("vit_tiny"), trace_source=True)
    model.merge_schedule = MergeSchedule.uniform(0.3, len(model.blocks))
    with torch.no_grad():
        model(image_batch(model, 2))
    source, sizes = model.merge_state.source, model.merge_state.sizes
    assert torch.allclose(source.sum(-1, keepdim=True)[:, 1:], sizes[:, 1:])
    assert torch.equal(source[:, 1:].sum(1), torch.ones_like(source[:, 1:].sum(1)))  # every patch once


def test_threshold_above_every_similarity_merges_nothing():
    model = make("vit_tiny")
    x = image_batch(model)
    with torch.no_grad():
        reference = model(x)
        apply_merging(model)
        model.merge_schedule = MergeSchedule(thresholds=[1.0] * len(model.blocks))
        out = model(x)
    n0 = model.patch_embed.num_patches
    assert model.merge_state.per_sample_tokens == [[n0] * len(model.blocks)] * 3
    assert torch.allclose(reference, out, atol=1e-5)


def test_threshold_merges_identical_patches_and_counts_depend_on_image():
    model = apply_merging(make("vit_tiny"))
    model.pos_embed.data.zero_()              # so identical patches give identical tokens
    flat = torch.full((1, 3, 64, 64), 0.5)    # every patch identical
    noisy = torch.randn(1, 3, 64, 64) * 3.0   # patches differ
    model.merge_schedule = MergeSchedule(thresholds=[0.999] * len(model.blocks))
    with torch.no_grad():
        out = model(torch.cat([flat, noisy]))
    flat_tokens, noisy_tokens = model.merge_state.per_sample_tokens
    n0 = model.patch_embed.num_patches
    assert flat_tokens[0] == n0 // 2          # every source merges at the first block
    assert noisy_tokens[-1] > flat_tokens[-1]
    # batched threshold mode equals running each image alone
    with torch.no_grad():
        alone = model(noisy)
    assert torch.allclose(out[1:], alone, atol=1e-5)


def test_schedule_validation_rejects_bad_input():
    model = apply_merging(make("vit_tiny"))
    depth = len(model.blocks)
    with pytest.raises(ValueError, match="blocks"):
        model.merge_schedule = MergeSchedule(ratios=[0.1] * (depth - 1))
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        model.merge_schedule = MergeSchedule(ratios=[1.5] + [0.0] * (depth - 1))
    with pytest.raises(ValueError, match="not both"):
        model.merge_schedule = MergeSchedule(ratios=[0.0] * depth, thresholds=[0.5] * depth)
    with pytest.raises(ValueError, match="merge mode"):
        model.merge_schedule = MergeSchedule(ratios=[0.0] * depth, mode="mean")
    with pytest.raises(ValueError):
        model.merge_schedule = MergeSchedule(ratios=[float("nan")] * depth)


def test_non_vit_models_are_refused():
    with pytest.raises(TypeError):
        apply_merging(torch.nn.Linear(2, 2))


def test_captured_edge_matches_eager_and_only_compiled_schedules_use_it():
    """Graph capture (torch.compile) of the default model's edge: same tokens, sizes and counts as eager."""
    from semcom_ros.core.bundle.bundle import load_bundle
    from semcom_ros.core.data.datasets import load_embedded_eval

    link, front = load_bundle("default").link(4), load_bundle("default").front(4)
    images = load_embedded_eval().images
    s3 = MergeSchedule(ratios=front.get("S3").ratios)
    link.schedule = s3
    frames = [link.preprocess([images[i]]) for i in range(3)]
    eager = [link.edge(x) for x in frames]
    assert link.compile_for(frames[0]) > 0
    for x, ref in zip(frames, eager):
        got = link.edge(x)
        assert torch.allclose(got.symbols, ref.symbols, atol=1e-4)
        assert torch.equal(got.sizes, ref.sizes) and got.tokens_per_layer == ref.tokens_per_layer
    assert ref.tokens_per_layer[-1] < link.shape.num_patches // 2    # S3 really merges
    link.schedule = MergeSchedule(ratios=front.get("S1").ratios)   # not compiled: runs eager, no compile stall
    assert link._compile_key(frames[0], 1.0) not in link._compiled_keys
    assert link.edge(frames[0]).tokens_per_layer != ref.tokens_per_layer
    link.schedule = MergeSchedule(thresholds=[0.9] * link.depth)
    with pytest.raises(ValueError, match="data-dependent"):
        link.compile_for(frames[0])


def test_attention_masks_are_refused_not_ignored():
    model = apply_merging(timm.create_model("vit_tiny_patch16_224", pretrained=False).eval())
    x = torch.randn(1, 3, 224, 224)
    with pytest.raises(NotImplementedError, match="attn_mask"):
        model(x, attn_mask=torch.zeros(1, 197, 197))
    with pytest.raises(NotImplementedError, match="is_causal"):
        model.blocks[0](torch.randn(1, 197, 192), is_causal=True)
