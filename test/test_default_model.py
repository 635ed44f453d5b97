"""The built-in bundles' models, their evaluation sets, safe loading and the JSCC pairs.

Each built-in bundle is held to what it promises (README, checkpoints/README.md):
``garments`` (centred 28x28 items) to 88 % and codes lossless at 25 dB;
``default`` (the robot-view scenes, ten classes among distractors) to four
times chance and a rate-8 code that loses less than a fifth of that at 25 dB
(its rates 2 and 4 are the front's cheaper trade-offs); no code loses by a higher
rate. Floors are targets, not measured figures.
"""
import gzip
import json
import struct

import numpy as np
import pytest
import torch

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.link.channels import Channel
from semcom_ros.core.data.datasets import FASHION_MNIST_CLASSES, _read_idx, load_embedded_eval
from semcom_ros.core.fronts.evaluation import evaluate
from semcom_ros.core.model.merging_vit import MergeSchedule
from semcom_ros.core.model.models import CheckpointError, build_model, load_state_dict_safely, load_weights
from semcom_ros.tools.cli_common import bundle_images
from semcom_ros.tools.evaluate import main as eval_main

DEFAULT = load_bundle("default")
WEIGHTS = DEFAULT.path / "model.safetensors"
# name -> (evaluation images, accuracy floor, {rate: JSCC loss at 25 dB at most},
#          worst accuracy down to -10 dB at least)
PROMISES = {"garments": (3000, 0.88, {2: 0.01, 4: 0.01, 8: 0.01}, 0.20), "default": (500, 0.40, {8: 0.08}, 0.15)}


def default_vit():
    return build_model(DEFAULT.architecture, DEFAULT.model_kwargs)


def tokens(link):
    """Tokens a frame starts with: its patches and the class token."""
    return link.shape.num_patches + 1


def unmerged(link):
    return MergeSchedule.uniform(0.0, link.depth)


@pytest.fixture(scope="module", params=list(PROMISES))
def built_in(request):
    """(bundle, {rate: link}, images, labels, promise) of one built-in bundle on its own evaluation set."""
    bundle = load_bundle(request.param)
    links = {m: bundle.link(m) for m in bundle.rates}
    data = bundle_images(bundle, PROMISES[request.param][0])
    x = links[bundle.rates[0]].preprocess(list(data.images))
    return bundle, links, x, torch.as_tensor(data.labels), PROMISES[request.param]


def test_embedded_eval_set_is_real_fashion_mnist():
    eval_set = load_embedded_eval()
    assert len(eval_set) >= 2000
    assert eval_set.images.shape[1:] == (28, 28) and eval_set.images.dtype == np.uint8
    assert sorted(set(eval_set.labels.tolist())) == list(range(10))
    assert eval_set.class_names == FASHION_MNIST_CLASSES


def test_the_default_bundle_is_the_robot_view_model():
    assert DEFAULT.eval_images == "scenes" and DEFAULT.preprocess_config["crop_mode"] == "squash"
    _, height, width = DEFAULT.preprocess_config["input_size"]
    link = DEFAULT.link(DEFAULT.rates[0])
    assert DEFAULT.preprocess_config["input_size"][0] == 3 and min(height, width) >= 64
    assert link.depth >= 8 and tokens(link) - 1 >= 100               # patches before merging, class token aside


def test_shipped_weights_keep_their_promise(built_in):
    bundle, links, x, y, (_, floor, _, _) = built_in
    res = evaluate(links[bundle.rates[0]], x, y, unmerged(links[bundle.rates[0]]))
    assert res.accuracy >= floor, res.accuracy


def test_jscc_at_25_db_is_close_to_noiseless_and_rate_never_hurts(built_in):
    bundle, links, x, y, (_, _, loss, _) = built_in
    assert set(loss) <= set(bundle.rates)
    at_25 = {}
    for rate in bundle.rates:
        res = evaluate(links[rate], x, y, unmerged(links[rate]), snrs=[25.0])
        at_25[rate] = res.accuracy_by_snr[25.0]
        assert res.accuracy - at_25[rate] <= loss.get(rate, 1.0), (rate, res.accuracy, at_25[rate])
    rates = sorted(at_25)
    for low, high in zip(rates, rates[1:]):
        assert at_25[high] >= at_25[low] - 0.02, at_25


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_accuracy_degrades_gracefully_down_to_minus_10_db(built_in, channel):
    bundle, links, x, y, (_, _, _, worst) = built_in
    snrs = [25.0, 15.0, 5.0, 0.0, -5.0, -10.0]
    res = evaluate(links[4], x[:1000], y[:1000], MergeSchedule.uniform(0.1, links[4].depth), snrs, Channel(channel))
    accs = [res.accuracy_by_snr[s] for s in snrs]
    assert min(accs) > worst                      # chance is 0.10
    for hi, lo in zip(accs, accs[1:]):           # lower SNR never helps beyond sampling noise
        assert lo <= hi + 0.02
    assert accs[0] - accs[-1] > 0.02             # and noise does cost something


def test_channel_uses_follow_tokens_and_rate(built_in):
    _, links, x, y, _ = built_in
    for rate, link in links.items():
        full = evaluate(link, x[:50], y[:50], unmerged(link))
        merged = evaluate(link, x[:50], y[:50], MergeSchedule.uniform(0.3, link.depth))
        assert full.channel_uses == rate * tokens(link)
        assert merged.channel_uses == rate * merged.tokens_sent < full.channel_uses


def test_loading_refuses_pickled_objects(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"weight": Evil()}, path)
    with pytest.raises(CheckpointError, match="refusing"):
        load_state_dict_safely(path)
    assert not marker.exists()


def test_missing_and_mismatched_weights_are_named(tmp_path):
    from safetensors.torch import save_file

    state = load_state_dict_safely(WEIGHTS)
    broken = dict(state)
    broken.pop("head.weight")
    broken["pos_embed"] = torch.zeros(1, 10, 128)
    path = tmp_path / "broken.safetensors"
    save_file(broken, str(path))
    with pytest.raises(CheckpointError) as err:
        load_weights(default_vit(), load_state_dict_safely(path), str(path))
    assert "head.weight" in str(err.value) and "pos_embed" in str(err.value)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_state_dict_safely(tmp_path / "nothing.safetensors")


def test_plain_tensor_checkpoints_load_with_weights_only(tmp_path):
    state = load_state_dict_safely(WEIGHTS)
    path = tmp_path / "plain.pt"
    for wrapped in ({"state_dict": state}, {"model": state, "epoch": 3}, {f"module.{k}": v for k, v in state.items()}):
        torch.save(wrapped, path)
        model = default_vit()
        load_weights(model, load_state_dict_safely(path), str(path))
        assert torch.equal(model.head.weight, state["head.weight"])


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(ValueError, match="no_such_vit_42"):
        build_model("no_such_vit_42")


def test_idx_reader(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 3) + struct.pack(">III", 2, 3, 4) + data.tobytes())
    assert np.array_equal(_read_idx(path), data)
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 3) + struct.pack(">III", 2, 3, 4) + data.tobytes()[:-1])
    with pytest.raises(ValueError, match="expected 24"):
        _read_idx(path)


def test_eval_cli_runs_a_named_configuration(capsys):
    conf = DEFAULT.front(4).get("S2")
    assert eval_main(["--policy", "S2", "--limit", "100", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schedule"]["ratios"] == conf.ratios and report["policy"] == "S2"


def test_eval_cli_reports_and_plots(tmp_path, capsys):
    png = tmp_path / "acc.png"
    assert eval_main(["--uniform", "0.2", "--snr-sweep", "-10:20:10", "--limit", "200", "--channel", "rayleigh",
                      "--csi", "pilot", "--plot", str(png), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_images"] == 200
    assert set(report["accuracy_by_snr"]) == {"-10.0", "0.0", "10.0", "20.0"}     # typed as the help says
    assert 0 < report["gmacs"] and report["channel_uses"] > 0 and 0 < report["compression_ratio"] < 1
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv,msg", [
    (["--snr-sweep", "10:0:5"], "A <= B"),
    (["--rate", "3"], "no JSCC code for rate 3"),
    (["--bundle", "/nonexistent/b"], "is not a bundle"),
    (["--ratios", "0.1,0.1"], f"{DEFAULT.link(4).depth} blocks"),
    (["--policy", "S7"], "unknown configuration 'S7'"),
    (["--policy", "S1", "--uniform", "0.1"], "--policy replaces"),
])
def test_eval_cli_rejects_bad_arguments(argv, msg, capsys):
    assert eval_main(argv + ["--limit", "10", "--json"]) == 2
    assert msg in capsys.readouterr().err
