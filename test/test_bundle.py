"""Bundles: loading checks that the parts fit and says exactly what does not."""
import pytest
import torch
import yaml
from safetensors.torch import save_file

from semcom_ros.core.bundle.bundle import BundleError, load_bundle, packaged_names, updating
from semcom_ros.core.bundle.create import copy_bundle
from semcom_ros.core.link.jscc import JSCC
from semcom_ros.tools.bundle import main as bundle_main


@pytest.fixture
def copy(tmp_path):
    return copy_bundle("garments", tmp_path / "mine")


def edit_manifest(bundle, change):
    path = bundle.path / "bundle.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("name", ["default", "garments"])
def test_builtin_bundles_are_complete_and_read_only(name, capsys):
    builtin = load_bundle(name)
    assert builtin.name == name and builtin.is_builtin and name in packaged_names()
    assert builtin.check() == [] and builtin.missing() == []
    assert builtin.rates == [2, 4, 8] and builtin.front_rates == [2, 4, 8] and builtin.has_joint_front
    with pytest.raises(BundleError, match=f"'{name}' is read-only"):
        builtin.writable()
    assert bundle_main(["show", name]) == 0
    assert "complete   yes" in capsys.readouterr().out


def test_a_folder_is_not_mistaken_for_a_builtin_name(tmp_path, monkeypatch):
    copy_bundle("garments", tmp_path / "default")
    monkeypatch.chdir(tmp_path)
    assert load_bundle("default").is_builtin                  # the name means the built-in one everywhere
    assert not load_bundle("./default").is_builtin            # a path means the folder
    with pytest.raises(BundleError, match="not a bundle"):
        load_bundle("no_such_bundle")


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
    edit_manifest(copy, lambda d: (d["jscc"][4].__setitem__("split", 6), d.__setitem__("eval_images", 3)))
    with pytest.raises(BundleError, match="eval_images"):
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


def one_rate(bundle):
    """The bundle as it was before joint fronts: one front, for rate 4."""
    def keep_m4(d):
        d["fronts"] = {4: "front_m4.yaml"}
        d.pop("joint_front", None)
    edit_manifest(bundle, keep_m4)
    return load_bundle(bundle.path)


def test_an_old_one_rate_bundle_keeps_working_at_any_rate_it_has_a_code_for(copy):
    bundle = one_rate(copy)
    front = bundle.front(2)
    assert not front.joint and front.rate == 4                  # the nearest rate's front ...
    assert {c.rate for c in front.configurations} == {2}        # ... its schedules sent at the rate asked for
    link = bundle.link(2, all_rates=True).use(front.get("S1"))
    assert link.rate == 2 and link.edge(link.preprocess([torch.zeros(32, 32).byte().numpy()])).channel_uses % 2 == 0
    with pytest.raises(BundleError, match="no JSCC code for rate 3"):
        bundle.link(3)


def test_a_second_rate_front_makes_the_joint_front(copy):
    bundle = one_rate(copy).writable()
    data = yaml.safe_load((bundle.path / "front_m4.yaml").read_text())
    data["rate"] = 8
    for c in data["configurations"]:         # twice the symbols: more robust on a bad link
        c["channel_uses"] *= 2
        c["accuracy_by_snr"] = {k: min(1.0, v + (0.05 if k <= 0 else 0.0)) for k, v in c["accuracy_by_snr"].items()}
    bundle.save_front(8, data)
    bundle.save()
    again = load_bundle(bundle.path)
    joint = again.front(4)
    assert again.has_joint_front and joint.joint and joint.rates == [4, 8] and again.check() == []
    assert {"p02@m4", "p02@m8"} <= set(joint.names) and joint.get("p02").name == "p02@m4"
    assert again.front(8).get("p02").name == "p02@m8"        # a plain name means the node's starting rate
    assert joint.label("S1").startswith("S1 (") and "@m" in joint.label("S1")


def test_joint_front_configurations_need_a_code_for_their_rate(copy):
    path = copy.path / "front_joint.yaml"
    data = yaml.safe_load(path.read_text())
    data["rates"].append(16)
    data["configurations"][0]["rate"] = 16
    path.write_text(yaml.safe_dump(data))
    assert any("configurations at rates [16] but no JSCC code" in p for p in load_bundle(copy.path).check())
    data["configurations"][0]["rate"] = 5
    path.write_text(yaml.safe_dump(data))
    assert any("rate: 5 is not one of this front's rates" in p for p in load_bundle(copy.path).check())


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
    assert train_jscc_main(["--bundle", str(copy.path), "--images", "embedded", "--channels", "awgn,two_ray"]) == 2
    assert "--channels" in capsys.readouterr().err


def test_fronts_saved_by_side_by_side_searches_all_stay(copy):
    """Two searches loaded the bundle before either finished: the second to save keeps the first's front."""
    front = yaml.safe_load((copy.path / "front_m4.yaml").read_text())
    started = one_rate(copy)                # both searches loaded it while it had only the rate-4 front
    for rate in (2, 8):
        with updating(started.path) as current:
            current.save_front(rate, {**front, "rate": rate})
            current.save()
    assert load_bundle(started.path).front_rates == [2, 4, 8] and load_bundle(started.path).has_joint_front
    with pytest.raises(BundleError, match="read-only"):
        with updating(load_bundle("garments").path):
            pass
