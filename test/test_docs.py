"""The README and docs/ against the code: the parameter reference, links, and every command they show.

A command shown to a user must run as written on a fresh clone: each
``semcom-*`` tool's ``--help`` must parse and list the options used; scripts and
benchmarks must exist and take the options used; launch files must exist and
declare the arguments used; ``ros2 run`` executables must exist and their
``-p`` parameters be declared by that node.
"""
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from test_launch_files import entry_points, node_declares   # console scripts and node declarations, read once there

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "test" / "README.md"]


def test_parameter_reference_equals_the_nodes_declarations():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "parameter_reference.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]


def test_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 260, f"README.md has {len(lines)} lines; reference and results belong in docs/"


# working folders of a user or a machine: a figure's output pasted as printed names them (system paths such
# as /usr/share/datasets or /dev/shm are what the docs mean to name, and are allowed)
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|home|root|tmp|mnt|Users|var/folders)/[\w.~-]")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_machine_paths(page):
    hits = [f"line {n}: {m.group(0)}..." for n, line in enumerate(page.read_text().splitlines(), 1)
            for m in MACHINE_PATH.finditer(line)]
    assert not hits, f"{page.name} names a path of the machine it was written on: {hits[:5]}"


def test_the_machine_path_check_fires():
    pasted = '{"report": "/work/main/remeasure_work/demo/report.md", "frames": 300}'
    assert MACHINE_PATH.search(pasted) and MACHINE_PATH.search("see /home/ana/ws/log.txt")
    assert not MACHINE_PATH.search("apt installs /usr/share/datasets/fashion-mnist; segments in /dev/shm")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of a markdown page."""
    out = set()
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page):
    assert page.exists(), page
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: link to missing {target}"
        if anchor and dest.suffix == ".md":
            assert anchor in anchors(dest), f"{page.name}: no heading #{anchor} in {dest.name}"


def shell_commands(page: Path) -> list[str]:
    """Commands in the page's ```bash blocks, continuation lines joined, comments dropped."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                out.extend(part.strip() for part in re.split(r"&&|;", line) if part.strip())
    return out


def options(words: list[str]) -> set[str]:
    return {w.split("=")[0] for w in words if w.startswith("--")}


def run_help(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / argv[0]
    return subprocess.run([str(exe), *argv[1:], "--help"], capture_output=True, text=True, timeout=120)


@cache
def every_help() -> dict[str, subprocess.CompletedProcess]:
    """Each semcom-* tool's --help, run side by side once (each process imports torch: seconds)."""
    from concurrent.futures import ThreadPoolExecutor

    tools = sorted(t for t in entry_points() if t.startswith("semcom-"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(tools, pool.map(run_help, [(t,) for t in tools])))


def help_text(tool: str) -> str:
    out = every_help()[tool]
    assert out.returncode == 0, f"{tool} --help: {out.stderr[-1000:]}"
    return out.stdout


@cache
def declared_parameters() -> dict[str, set[str]]:
    """executable -> the parameters its node declares."""
    return {exe: node_declares(module)[1] for exe, module in entry_points().items() if module.startswith("nodes.")}


def check(command: str) -> None:
    words = shlex.split(command.replace("$PWD", "/tmp").replace("$(", "").replace(")", ""))
    if not words:
        return
    head = words[0]
    if head.startswith("semcom-"):
        assert head in entry_points(), f"{command}: no console script {head}"
        text = help_text(head)
        for sub in words[1:2]:
            if not sub.startswith("-") and "{" in text:      # a sub-command (semcom-bundle create ...)
                text += help_text_sub(head, sub)
        missing = {o for o in options(words) if o not in text}
        assert not missing, f"{command}: {head} has no option {missing}"
    elif head == "bash" and words[1:2] and words[1].startswith("scripts/"):
        assert (ROOT / words[1]).exists(), command
    elif head in ("python", ".venv/bin/python") and words[1:2] and words[1].endswith(".py"):
        src = (ROOT / words[1]).read_text()
        missing = {o for o in options(words) if f'"{o}"' not in src}
        assert not missing, f"{command}: {words[1]} takes no {missing}"
    elif head == "ros2" and words[1:3] == ["launch", "semcom_ros"]:
        launch = ROOT / "launch" / words[3]
        assert launch.exists(), command
        declared = launch_arguments(launch)
        used = {w.split(":=")[0] for w in words[4:] if ":=" in w}
        assert used <= declared, f"{command}: {launch.name} declares no {used - declared}"
    elif head == "ros2" and words[1:3] == ["run", "semcom_ros"]:
        exe = words[3]
        assert exe in entry_points(), f"{command}: no executable {exe}"
        params = declared_parameters().get(exe, set())
        used = {w.split(":=")[0].strip('"') for prev, w in zip(words, words[1:]) if prev == "-p"}
        assert used <= params, f"{command}: {exe} declares no {used - params}"


def launch_arguments(launch: Path) -> set[str]:
    """Arguments a launch file declares, with those of the launch files it includes and re-declares."""
    text = launch.read_text()
    out = set(re.findall(r'DeclareLaunchArgument\(\s*"(\w+)"', text))
    for included in set(re.findall(r'"(\w+\.launch\.py)"', text)) - {launch.name}:
        out |= launch_arguments(launch.parent / included)
    return out


@cache
def help_text_sub(tool: str, sub: str) -> str:
    out = run_help((tool, sub))
    return out.stdout if out.returncode == 0 else ""


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shown_command_names_what_exists(page):
    commands = shell_commands(page)
    for command in commands:
        check(command)
