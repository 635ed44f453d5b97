"""A bundle: everything one deployment needs, in one folder, checked as a whole.

    my_bundle/
      bundle.yaml            manifest: model, preprocessing, class names, JSCC codes, fronts, card
      model.safetensors      classifier weights
      jscc_m4.safetensors    one JSCC pair per rate (complex symbols per token)
      front_m4.yaml          Pareto front made for that rate
      front_joint.yaml       every rate's configurations in one set (written when there are two or more)

Nodes and tools take one bundle (a folder path, or the name of one shipped
inside the package: ``default``, the robot-view scene model, and ``garments``,
the small Fashion-MNIST model) so model, codes and front cannot disagree.
Every tool that adds a part records how it was made in the card.
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from .manifest import FORMAT_VERSION, BundleError, validate_manifest

__all__ = ["FORMAT_VERSION", "Bundle", "BundleError", "card_entry", "load_bundle", "updating", "validate_manifest"]

MANIFEST = "bundle.yaml"
BUILTIN = "default"
MODEL_FILE = "model.safetensors"


def builtin_path(name: str = BUILTIN) -> Path:
    return Path(str(resources.files("semcom_ros") / "bundles" / name))


def packaged_names() -> list[str]:
    """The bundles shipped inside the package, by the names nodes and tools accept."""
    root = builtin_path().parent
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def jscc_filename(rate: int) -> str:
    return f"jscc_m{rate}.safetensors"


def front_filename(rate: int) -> str:
    return f"front_m{rate}.yaml"


JOINT_FRONT_FILE = "front_joint.yaml"


def save_tensors(state: dict, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(path))


def card_entry(step: str, **fields) -> dict:
    """One line of the card: what was done, when, by which command, with what result."""
    return {"step": step, "date": datetime.date.today().isoformat(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), **fields}


@dataclass
class Bundle:
    path: Path
    manifest: dict

    # --- what it holds -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.name)

    @property
    def is_builtin(self) -> bool:
        return self.path.resolve().parent == builtin_path().parent.resolve()

    @property
    def architecture(self) -> str:
        return self.manifest["model"]["architecture"]

    @property
    def model_kwargs(self) -> dict:
        return dict(self.manifest["model"].get("kwargs") or {})

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.manifest["class_names"])

    @property
    def preprocess_config(self) -> dict:
        return dict(self.manifest["preprocess"])

    @property
    def eval_images(self) -> str:
        """The image set its fronts and tables are measured on: 'embedded', 'scenes' or a folder."""
        return str(self.manifest.get("eval_images", "embedded"))

    @property
    def rates(self) -> list[int]:
        return sorted(self.manifest.get("jscc") or {})

    @property
    def front_rates(self) -> list[int]:
        return sorted(self.manifest.get("fronts") or {})

    @property
    def card(self) -> list[dict]:
        return list(self.manifest.get("card") or [])

    def jscc_entry(self, rate: int) -> dict:
        codes = self.manifest.get("jscc") or {}
        if rate not in codes:
            raise BundleError(f"bundle {self.name} has no JSCC code for rate {rate} (symbols per token); "
                              f"it has {self.rates or 'none'}: train one with semcom-train-jscc --bundle "
                              f"{self.path} --rates {rate}")
        return codes[rate]

    def missing(self) -> list[str]:
        """What a deployment still needs from this bundle (empty: complete)."""
        out = []
        if not self.rates:
            out.append("JSCC code (semcom-train-jscc)")
        if not self.front_rates:
            out.append("Pareto front (semcom-optimize)")
        return out

    # --- loading the parts ---------------------------------------------------------------------
    def load_model(self):
        """The classifier with its weights, preprocessing and class names."""
        from ..data.preprocess import make_preprocess
        from ..model.models import LoadedModel, build_model, load_state_dict_safely, load_weights

        model = build_model(self.architecture, self.model_kwargs)
        weights = self.path / self.manifest["model"].get("weights", MODEL_FILE)
        load_weights(model, load_state_dict_safely(weights), str(weights))
        self._check_model(model)
        return LoadedModel(self.name, model, make_preprocess(self.preprocess_config), self.class_names,
                           self.preprocess_config)

    def _check_model(self, model) -> None:
        classes = getattr(model, "num_classes", None)
        if classes != len(self.class_names):
            raise BundleError(f"bundle {self.name}: the model has {classes} classes but "
                              f"class_names lists {len(self.class_names)}")
        pe = getattr(model, "patch_embed", None)
        if pe is not None:
            want = [pe.proj.in_channels, *pe.img_size]
            if list(self.preprocess_config["input_size"]) != want:
                raise BundleError(f"bundle {self.name}: preprocess.input_size {self.preprocess_config['input_size']}"
                                  f" but the model takes {want}")

    def load_jscc(self, rate: int, dim: int):
        """The JSCC pair for ``rate``, checked against the model width."""
        from ..link.jscc import JSCC
        from ..model.models import load_state_dict_safely, load_weights

        entry = self.jscc_entry(rate)
        path = self.path / entry["file"]
        state = load_state_dict_safely(path)
        found_dim, found_m = state["encoder.0.weight"].shape[1], state["encoder.2.weight"].shape[0] // 2
        if found_dim != dim or found_m != rate:
            raise BundleError(f"bundle {self.name}: {entry['file']} codes {found_dim}-wide tokens into {found_m} "
                              f"symbols, the model's tokens are {dim} wide and the rate is {rate}")
        code = JSCC(dim, rate, hidden=state["encoder.0.weight"].shape[0], snr_range_db=tuple(entry["snr_range_db"]))
        load_weights(code, state, str(path))
        return code.eval()

    def link(self, rate: int | None = None, device: str = "cpu", all_rates: bool = False):
        """The semantic link: model + the JSCC pair for ``rate`` (None: no JSCC) at its split point.

        ``all_rates`` also loads every other code with the same split, so the
        link can switch rate per frame (``SemanticLink.rate``).
        """
        from ..link.semantic_link import SemanticLink
        from ..model.models import torch_device

        dev = torch_device(device)
        loaded = self.load_model()
        if rate is None:
            return SemanticLink(loaded).to(dev)
        split = self.jscc_entry(rate)["split"]
        rates = [r for r in self.rates if self.jscc_entry(r)["split"] == split] if all_rates else [rate]
        codes = {r: self.load_jscc(r, loaded.model.embed_dim) for r in rates}
        return SemanticLink(loaded, codes, split=split, rate=rate).to(dev)

    @property
    def has_joint_front(self) -> bool:
        return bool(self.manifest.get("joint_front"))

    def front(self, rate: int, depth: int | None = None, tokens: int | None = None):
        """The front a deployment runs: the joint front when the bundle has one, else ``rate_front``.

        In a joint front a plain schedule name (p06) means that schedule at
        ``rate`` (``front.default_rate``). Checked against depth and tokens when given.
        """
        if not self.has_joint_front:
            return self.rate_front(rate, depth, tokens)
        front = self.joint_front(depth, tokens)
        front.default_rate = rate
        return front

    def joint_front(self, depth: int | None = None, tokens: int | None = None):
        """Every rate's configurations in one set (``front_joint.yaml``)."""
        if not self.has_joint_front:
            raise BundleError(f"bundle {self.name} has no joint front: it needs fronts for two or more rates")
        return self._load_front(self.manifest["joint_front"], depth, tokens)

    def rate_front(self, rate: int, depth: int | None = None, tokens: int | None = None):
        """The front made for one rate (what semcom-optimize wrote).

        A rate without its own front uses the front of the nearest rate (same
        merge schedules; its accuracy and channel-use figures are for that rate):
        ``front.rate`` says which.
        """
        if not self.front_rates:
            raise BundleError(f"bundle {self.name} has no Pareto front yet: run semcom-optimize --bundle {self.path}")
        use = rate if rate in self.front_rates else min(self.front_rates, key=lambda r: (abs(r - rate), r))
        front = self._load_front(self.manifest["fronts"][use], depth, tokens)
        for conf in front.configurations:      # the schedules run at the rate asked for
            conf.rate = rate
        return front

    def _load_front(self, name: str, depth: int | None, tokens: int | None):
        from ..fronts.front_file import FrontFileError, load_front

        path = self.path / name
        try:
            front = load_front(path)
        except FrontFileError as exc:
            raise BundleError(str(exc)) from exc
        if depth is not None and front.depth != depth:
            raise BundleError(f"bundle {self.name}: {path.name} is for {front.depth} blocks, the model has {depth}")
        made_for = front.raw.get("tokens")
        if tokens is not None and made_for is not None and made_for != tokens:
            raise BundleError(f"bundle {self.name}: {path.name} was made for {made_for} patch tokens, "
                              f"the model makes {tokens}")
        return front

    def check(self) -> list[str]:
        """Load every part and report what does not fit (empty: all parts fit)."""
        from .check import bundle_problems

        return bundle_problems(self)

    # --- writing parts (tools) -----------------------------------------------------------------
    def writable(self) -> "Bundle":
        if self.is_builtin:
            raise BundleError(f"the built-in bundle '{self.path.name}' is read-only: copy it first "
                              f"(semcom-bundle copy {self.path.name} my_bundle) and write into the copy")
        return self

    def add_card(self, entry: dict) -> None:
        self.manifest.setdefault("card", []).append(entry)

    def save_jscc(self, rate: int, code, split: int) -> None:
        self.writable()
        save_tensors(code.state_dict(), self.path / jscc_filename(rate))
        self.manifest.setdefault("jscc", {})[rate] = {"file": jscc_filename(rate), "split": int(split),
                                                      "snr_range_db": list(code.snr_range_db)}

    def save_front(self, rate: int, data: dict) -> Path:
        from ..fronts.front_file import save_front

        self.writable()
        path = self.path / front_filename(rate)
        save_front(data, path)
        self.manifest.setdefault("fronts", {})[rate] = front_filename(rate)
        if len(self.front_rates) >= 2:
            self.save_joint_front()
        return path

    def save_joint_front(self) -> Path:
        """(Re)write the joint front from the rate fronts (see ``joint_front``)."""
        from ..fronts.front_file import save_front
        from ..fronts.joint_front import joint_front_data

        self.writable()
        files = dict(self.manifest.get("fronts") or {})
        data = {rate: yaml.safe_load((self.path / name).read_text()) for rate, name in files.items()}
        path = self.path / JOINT_FRONT_FILE
        save_front(joint_front_data(data, files), path)
        self.manifest["joint_front"] = JOINT_FRONT_FILE
        return path

    def save(self) -> None:
        self.writable()
        validate_manifest(self.manifest, str(self.path / MANIFEST))
        text = yaml.safe_dump(self.manifest, sort_keys=False, default_flow_style=None, width=120,
                              allow_unicode=True)
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(text)
        tmp.replace(self.path / MANIFEST)


@contextlib.contextmanager
def updating(path: str | Path):
    """The bundle at ``path``, freshly loaded, with no other writer inside the block until it ends.

    Searches for several rates of one bundle may run side by side: each adds its front to
    the manifest as it is on disk when it finishes, so none drops another's.
    """
    load_bundle(path).writable()            # a read-only bundle is refused before its folder is touched
    with open(Path(path) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield load_bundle(path).writable()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_bundle(spec: str | Path) -> Bundle:
    """A bundle by folder path, or by a built-in one's name; files named in it must exist.

    A name wins over a folder of the same name in the working directory (write ``./default``
    for that folder), so ``bundle: default`` means the same in every launch.
    """
    name = str(spec)
    path = builtin_path(name) if name in packaged_names() else Path(spec).expanduser()
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        hint = " (create one with semcom-bundle create)" if not path.exists() else ""
        raise BundleError(f"{path} is not a bundle: no {MANIFEST}{hint}")
    try:
        data = yaml.safe_load(manifest_path.read_text())
    except yaml.YAMLError as exc:
        raise BundleError(f"{manifest_path}: not valid YAML: {exc}") from exc
    validate_manifest(data, str(manifest_path))
    files = [data["model"].get("weights", MODEL_FILE)]
    files += [e["file"] for e in (data.get("jscc") or {}).values()] + list((data.get("fronts") or {}).values())
    files += [data["joint_front"]] if data.get("joint_front") else []
    absent = [f for f in files if not (path / f).is_file()]
    if absent:
        raise BundleError(f"bundle {path}: {MANIFEST} names files that are not there: {', '.join(absent)}")
    return Bundle(path, data)
