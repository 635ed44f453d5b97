"""Bundles: loading checks that the parts fit and says exactly what does not."""
import pytest
import torch
import yaml
from safetensors.torch import save_file

from semcom_ros.core.bundle import BundleError, copy_bundle, load_bundle
from semcom_ros.core.jscc import JSCC
from semcom_ros.tools.bundle import main as bundle_main


@pytest.fixture
def copy(tmp_path):
    return copy_bundle("default", tmp_path / "mine")


def edit_manifest(bundle, change):
    path = bundle.path / "bundle.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_builtin_bundle_is_complete_and_read_only(capsys):
    default = load_bundle("default")
    assert default.check() == [] and default.missing() == []
    assert default.rates == [2, 4, 8] and default.front_rates == [4]
    with pytest.raises(BundleError, match="read-only"):
        default.writable()
    assert bundle_main(["show", "default"]) == 0
    assert "complete   yes" in capsys.readouterr().out


def test_copy_is_writable_and_carries_the_card(copy):
    assert copy.writable() is copy
    steps = [e["step"] for e in load_bundle(copy.path).card]
    assert steps[-1] == "copy" and {"model", "jscc", "front"} <= set(steps)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["class_names"].pop(), "class_names lists 9"),
    (lambda d: d["preprocess"].update(input_size=[3, 32, 32], mean=[0.5] * 3, std=[0.5] * 3),
     "preprocess.input_size [3, 32, 32] but the model takes [1, 32, 32]"),
    (lambda d: d["model"]["kwargs"].update(depth=4), "unexpected ['blocks.4"),
])
def test_parts_that_do_not_fit_the_model_are_named(copy, change, message):
    edit_manifest(copy, change)
    with pytest.raises(Exception, match=None) as err:
        load_bundle(copy.path).load_model()
    assert message in str(err.value)


def test_manifest_problems_are_named(copy):
    edit_manifest(copy, lambda d: d["jscc"].__setitem__(4, {"file": "jscc_m4.safetensors", "split": 0,
                                                            "snr_range_db": [-10, 25]}))
    with pytest.raises(BundleError, match=r"jscc\[4\].split"):
        load_bundle(copy.path)
    (copy.path / "bundle.yaml").write_text("format: 1\nmodel: [unclosed\n")
    with pytest.raises(BundleError, match="not valid YAML"):
        load_bundle(copy.path)


def test_missing_files_are_named(copy):
    (copy.path / "jscc_m8.safetensors").unlink()
    with pytest.raises(BundleError, match="not there: jscc_m8.safetensors"):
        load_bundle(copy.path)


def test_jscc_of_another_width_or_rate_is_refused(copy):
    save_file({k: v.contiguous() for k, v in JSCC(64, 4).state_dict().items()}, str(copy.path / "jscc_m4.safetensors"))
    save_file({k: v.contiguous() for k, v in JSCC(128, 3).state_dict().items()}, str(copy.path / "jscc_m8.safetensors"))
    bundle = load_bundle(copy.path)
    problems = bundle.check()
    assert any("64-wide tokens into 4 symbols" in p and "128 wide" in p for p in problems), problems
    assert any("into 3 symbols" in p and "rate is 8" in p for p in problems), problems
    with pytest.raises(BundleError, match="64-wide"):
        bundle.link(4)
    assert bundle.link(2).jscc.m == 2          # the parts that fit still load


def test_front_made_for_another_token_count_is_refused(copy):
    path = copy.path / "front_m4.yaml"
    data = yaml.safe_load(path.read_text())
    data["tokens"] = 100
    path.write_text(yaml.safe_dump(data))
    assert any("made for 100 patch tokens, the model makes 64" in p for p in load_bundle(copy.path).check())


def test_rate_without_its_own_front_uses_the_nearest(copy):
    bundle = load_bundle(copy.path)
    assert bundle.front(2).rate == 4 and bundle.front(8).rate == 4
    with pytest.raises(BundleError, match="no JSCC code for rate 3"):
        bundle.link(3)


def test_show_reports_problems_with_a_failing_exit_code(copy, capsys):
    save_file({k: v.contiguous() for k, v in JSCC(64, 4).state_dict().items()}, str(copy.path / "jscc_m4.safetensors"))
    assert bundle_main(["show", str(copy.path)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM" in out and "complete   no" in out


def test_create_refuses_names_that_do_not_fit_the_head(tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\nrobot\n")
    assert bundle_main(["create", str(tmp_path / "b"), "--model", "vit_tiny_patch16_224", "--model-arg", "img_size=32",
                        "--num-classes", "5", "--class-names", str(names)]) == 2
    assert "3 class names but the model has 5 outputs" in capsys.readouterr().err
    assert bundle_main(["create", str(tmp_path / "c"), "--model", "vit_tiny_patch16_224", "--model-arg", "img_size=32",
                        "--class-names", str(names)]) == 0
    c = load_bundle(tmp_path / "c")
    assert c.class_names == ("cat", "dog", "robot") and c.preprocess_config["input_size"] == [3, 32, 32]
    assert c.missing() and c.check() == []
    assert torch.is_tensor(c.load_model().model.head.weight)


def test_tool_arguments_that_cannot_work_are_refused_with_the_reason(copy, tmp_path, capsys):
    from semcom_ros.tools.train_jscc import main as train_jscc_main

    with pytest.raises(SystemExit) as exit_:
        bundle_main(["create", str(tmp_path / "b"), "--model", "vit_tiny_patch16_224", "--model-arg", "img_size"])
    assert exit_.value.code == 2 and "KEY=VALUE" in capsys.readouterr().err
    assert train_jscc_main(["--bundle", str(copy.path), "--images", "embedded", "--rates", "0"]) == 2
    assert "positive integers" in capsys.readouterr().err
    assert train_jscc_main(["--bundle", str(copy.path), "--images", str(tmp_path / "none"), "--steps", "1"]) == 2
    assert str(tmp_path / "none") in capsys.readouterr().err
    assert train_jscc_main(["--bundle", "default", "--images", "embedded", "--steps", "1"]) == 2
    assert "read-only" in capsys.readouterr().err
