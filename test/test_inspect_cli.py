"""semcom-inspect prints one JSON object with what the issue asks for."""
import json
import subprocess
import sys

from semcom_ros.tools.inspect_model import main


def test_inspect_json_reports_tokens_and_macs(capsys):
    assert main(["--model", "vit_tiny_patch16_224", "--uniform", "0.2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "vit_tiny_patch16_224"
    assert len(report["tokens_per_layer"]) == 12
    assert report["tokens_per_layer"][0] == 196 - 39
    assert report["gmacs"] < report["gmacs_unmerged"]
    assert len(report["top"]) == 5


def test_inspect_rejects_a_bad_schedule(capsys):
    assert main(["--model", "vit_tiny_patch16_224", "--ratios", "0.1,0.2", "--json"]) == 2
    assert "12 blocks" in capsys.readouterr().err


def test_inspect_console_script_runs_as_a_process():
    out = subprocess.run([sys.executable, "-m", "semcom_ros.tools.inspect_model", "--model", "vit_tiny_patch16_224",
                          "--thresholds", ",".join(["0.9"] * 12), "--json"],
                         capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(out.stdout)
    assert report["schedule"]["thresholds"] == [0.9] * 12
    assert all(a >= b for a, b in zip(report["tokens_per_layer"], report["tokens_per_layer"][1:]))


def test_clis_refuse_a_missing_device_before_any_work(capsys):
    from semcom_ros.tools.evaluate import main as eval_main

    assert main(["--model", "vit_tiny_patch16_224", "--device", "cuda", "--json"]) == 2
    assert "no CUDA" in capsys.readouterr().err
    assert eval_main(["--device", "cuda:3", "--limit", "10"]) == 2
    assert "cuda:3" in capsys.readouterr().err


def test_eval_runs_on_the_cpu_device(capsys):
    from semcom_ros.tools.evaluate import main as eval_main

    assert eval_main(["--bundle", "garments", "--device", "cpu", "--limit", "50", "--snr", "20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_images"] == 50 and 0.5 < report["accuracy_by_snr"]["20.0"] <= 1.0
