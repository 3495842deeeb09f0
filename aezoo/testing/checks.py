"""The checks of the conformance kit, one function per check, each usable alone.

Every check takes a model name or its ``ModelSpec``, runs offline (``aezoo.testing.network``) and
raises ``ConformanceError`` (an ``AssertionError``, so pytest reports it as a failed test) saying
what is wrong and how to fix it. A check never writes into a folder it is given: whatever it
saves goes to a temporary folder it makes itself and removes afterwards.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path
from typing import Any, TypeVar

from ..api import build, expected_layout_of, info, load
from ..checkpoint import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, CheckpointConfig, check_layout, read_config
from ..errors import AezooError, WeightsUnavailableError
from ..integrity import sha256_of
from ..publish import published_files
from ..spec import TASKS, ModelSpec, Release
from .network import offline

LIBRARY_NAME = "aezoo"  # the card's library_name: the Hub shows aezoo's loading snippet for it
# Folders that are never part of a distribution's sources; the wheel is built from a copy without them
# (runs/ is where `aezoo train` writes checkpoints by default: large, and not package data).
NOT_SOURCES = (".git", ".venv", "venv", ".tox", ".nox", "build", "dist", "*.egg-info", "__pycache__",
               ".pytest_cache", "runs")
_Check = TypeVar("_Check", bound=Callable[..., Any])


class ConformanceError(AezooError, AssertionError):
    """A model or its plugin breaks the contract the conformance kit checks (docs/plugins.md)."""


class ConformanceWarning(UserWarning):
    """A check of ``check_model`` could not run here (for instance the published weights are not local)."""


def _fail(spec: ModelSpec, what: str, hint: str) -> ConformanceError:
    return ConformanceError(f"{spec.name}: {what}", hint)


def _spec_of(model: str | ModelSpec) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else info(model)


def conformance_check(function: _Check) -> _Check:
    """Let a check take a name or a spec, and run it offline."""

    @functools.wraps(function)
    def run(model: str | ModelSpec, *args: Any, **kwargs: Any) -> Any:
        with offline():
            return function(_spec_of(model), *args, **kwargs)

    return run  # type: ignore[return-value]


# -- the spec and the module -----------------------------------------------------------------------
@conformance_check
def check_spec(spec: ModelSpec) -> None:
    """Every field has its documented type and value (``task`` among ``aezoo.spec.TASKS``), the spec
    comes from an installed distribution, and its recipe trains on a registered data set."""
    from ..registry import get_registry

    try:
        spec.validate()
    except AezooError as exc:
        raise _fail(spec, exc.what, exc.hint) from exc
    if spec.task not in TASKS:  # validate() says so too; kept explicit: the task decides the API checked below
        raise _fail(spec, f"task {spec.task!r} is not one of {', '.join(TASKS)}.", "Pick the task the model does.")
    if not spec.distribution:
        raise _fail(spec, "is not registered by an installed distribution.",
                    "Install the plugin (pip install -e .) so its 'aezoo' entry point registers it.")
    if spec.recipe is not None and spec.recipe.dataset not in get_registry().datasets():
        raise _fail(spec, f"the recipe trains on {spec.recipe.dataset!r}, which no installed plugin registers.",
                    "Name a data set from 'aezoo datasets', or register yours with aezoo_register_datasets.")


@conformance_check
def check_builds(spec: ModelSpec) -> None:
    """The builder makes an ``nn.Module`` from the spec's config, with exactly ``spec.params`` parameters."""
    from torch import nn

    model = build(spec)
    if not isinstance(model, nn.Module):
        raise _fail(spec, f"the builder {spec.builder} returned a {type(model).__name__}, not a torch.nn.Module.",
                    "Return the module from the builder.")
    actual = sum(p.numel() for p in model.parameters())
    if actual != spec.params:
        raise _fail(spec, f"the spec says {spec.params:,} parameters, the module has {actual:,}.",
                    f"Set params={actual} in the spec (or compute it from the config).")


@conformance_check
def check_round_trip(spec: ModelSpec) -> None:
    """A checkpoint saved and loaded again holds every tensor exactly (names, dtypes, values).
    Writes only into a temporary folder of its own."""
    import torch

    from ..checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build(spec)
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory(prefix="aezoo-round-trip-") as scratch:
        folder = Path(scratch) / "checkpoint"
        save_checkpoint(folder, model, CheckpointConfig(spec.name, dict(spec.config), dict(spec.preprocessing)))
        loaded = load(folder, device="cpu").state_dict()
    if loaded.keys() != original.keys():
        raise _fail(spec,
                    f"a save/load round trip changed the tensor names ({sorted(loaded.keys() ^ original.keys())}).",
                    "Keep the state dict the same for the same config.")
    for key, tensor in original.items():
        if loaded[key].dtype != tensor.dtype or not torch.equal(loaded[key].cpu(), tensor.cpu()):
            raise _fail(spec, f"{key} changed in a save/load round trip.",
                        "Keep every tensor in the state dict (buffers included) and nothing outside it.")


@conformance_check
def check_no_torch_on_listing(spec: ModelSpec) -> None:
    """Listing and describing the model (``aezoo list``, ``aezoo info``) imports neither torch nor
    the model's module: the entry-point module holds specs only."""
    code = (
        f"import json, sys, aezoo; spec = aezoo.info({spec.name!r}); aezoo.list_models();"
        "print(json.dumps(['torch' in sys.modules, spec.builder.split(':')[0] in sys.modules]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise _fail(spec, f"listing it failed: {done.stderr.strip()[-400:]}", "Make the entry-point module import.")
    torch_imported, builder_imported = json.loads(done.stdout.strip().splitlines()[-1])
    if torch_imported:
        raise _fail(spec, "listing it imports torch.", "Keep torch out of the entry-point module (plugin.py).")
    if builder_imported:
        raise _fail(spec, f"listing it imports its builder module {spec.builder.split(':')[0]}.",
                    "Refer to the builder by its import string only.")


# -- the task API ----------------------------------------------------------------------------------
@conformance_check
def check_task_api(spec: ModelSpec, folder: Path | None = None) -> None:
    """The methods of the model's task take and give the documented shapes (docs/plugins.md, "The
    task API"), on a module built from the config, or on the checkpoint in ``folder`` (read only)."""
    import torch

    model = load(Path(folder), device="cpu") if folder is not None else build(spec).eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        _TASK_CHECKS[spec.task](spec, model, fitted=folder is not None)


def _method(spec: ModelSpec, model: Any, name: str) -> Callable[..., Any]:
    method = getattr(model, name, None)
    if not callable(method):
        raise _fail(spec, f"a {spec.task} model must have {name}() (docs/plugins.md, 'The task API').",
                    f"Add {name}() to {type(model).__name__}.")
    return method


def _image_shape(spec: ModelSpec, model: Any) -> tuple[int, int, int]:
    shape = getattr(model, "image_shape", None)
    if shape is None and {"channels", "image_size"} <= spec.preprocessing.keys():
        shape = (spec.preprocessing["channels"], spec.preprocessing["image_size"], spec.preprocessing["image_size"])
    if shape is None or len(tuple(shape)) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise _fail(spec, f"cannot tell its image shape (image_shape is {shape!r}).",
                    "Give the module image_shape = (channels, height, width).")
    return tuple(shape)


def _expect_images(spec: ModelSpec, call: str, out: Any, shape: tuple[int, ...]) -> None:
    import torch

    if not torch.is_tensor(out) or tuple(out.shape) != shape:
        got = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise _fail(spec, f"{call} gave {got}, not a tensor shaped {shape}.", "Return images of the documented shape.")
    if out.numel() and not (bool(torch.isfinite(out).all()) and float(out.min()) >= 0 and float(out.max()) <= 1):
        raise _fail(spec, f"{call} gave values outside [0, 1] (or NaN).", "Images are floats in [0, 1].")


def _check_image_method(spec: ModelSpec, model: Any, name: str) -> None:
    import torch

    method = _method(spec, model, name)
    shape = _image_shape(spec, model)
    images = torch.rand(3, *shape)
    _expect_images(spec, f"{name}(images of shape {tuple(images.shape)})", method(images), tuple(images.shape))
    if shape[0] == 1:
        _expect_images(spec, f"{name}(images of shape (3, {shape[1]}, {shape[2]}))", method(images[:, 0]),
                       (3, *shape[1:]))
    _expect_images(spec, f"{name}(an empty batch)", method(torch.zeros(0, *shape)), (0, *shape))


def _check_denoise(spec: ModelSpec, model: Any, *, fitted: bool) -> None:
    _check_image_method(spec, model, "denoise")


def _check_reconstruct(spec: ModelSpec, model: Any, *, fitted: bool) -> None:
    _check_image_method(spec, model, "reconstruct")


def _check_generate(spec: ModelSpec, model: Any, *, fitted: bool) -> None:
    import torch

    sample = _method(spec, model, "sample")
    first = sample(4, seed=0)
    if not torch.is_tensor(first) or first.dim() != 4 or first.shape[0] != 4:
        got = tuple(first.shape) if torch.is_tensor(first) else type(first).__name__
        raise _fail(spec, f"sample(4, seed=0) gave {got}, not images shaped (4, C, H, W).", "Return a batch of images.")
    shape = tuple(first.shape[1:])
    if getattr(model, "image_shape", None) is not None or "image_size" in spec.preprocessing:
        shape = _image_shape(spec, model)
    _expect_images(spec, "sample(4, seed=0)", first, (4, *shape))
    if not torch.equal(first, sample(4, seed=0)):
        raise _fail(spec, "sample(4, seed=0) gave other images the second time.",
                    "Draw the latent codes from a generator seeded with seed.")
    _expect_images(spec, "sample(0)", sample(0, seed=0), (0, *shape))
    if hasattr(model, "encode") or hasattr(model, "decode"):
        latent = getattr(model, "latent_dim", None)
        if not isinstance(latent, int):
            raise _fail(spec, "has encode/decode but no integer latent_dim.", "Set latent_dim on the module.")
        images = torch.rand(3, *shape)
        codes = _method(spec, model, "encode")(images)
        if not torch.is_tensor(codes) or tuple(codes.shape) != (3, latent):
            raise _fail(spec, f"encode(3 images) gave {getattr(codes, 'shape', codes)!r}, not (3, {latent}).",
                        "Return one latent code per image.")
        _expect_images(spec, f"decode(codes of shape (3, {latent}))", _method(spec, model, "decode")(codes),
                       (3, *shape))
        if hasattr(model, "reconstruct"):
            _check_image_method(spec, model, "reconstruct")


def _check_anomaly(spec: ModelSpec, model: Any, *, fitted: bool) -> None:
    import numpy as np
    import torch

    features = getattr(model, "n_features", None)
    if not isinstance(features, int) or features < 1:
        raise _fail(spec, f"an anomaly model must say how many features a row has (n_features is {features!r}).",
                    "Set n_features on the module.")
    rows = torch.randn(32, features)
    if not fitted:  # fresh weights score nothing: fit them first, as a user of a new detector does
        _method(spec, model, "fit")(rows)
    scores = np.asarray(_method(spec, model, "decision_function")(rows))
    if scores.shape != (32,) or not np.isfinite(scores).all():
        raise _fail(spec, f"decision_function(32 rows) gave shape {scores.shape}, not 32 finite scores.",
                    "Return one finite score per row.")
    flags = np.asarray(_method(spec, model, "predict")(rows))
    threshold = float(model.threshold_)
    if flags.shape != (32,) or not set(flags.tolist()) <= {0, 1}:
        raise _fail(spec, f"predict(32 rows) gave {flags.shape} / {sorted(set(flags.tolist()))[:5]}, not 32 flags 0/1.",
                    "Return 1 for an anomaly, 0 otherwise.")
    if not (flags == (scores > threshold)).all():
        raise _fail(spec, "predict() disagrees with decision_function() > threshold_.",
                    "Flag exactly the rows whose score passes threshold_.")


_TASK_CHECKS: dict[str, Callable[..., None]] = {
    "denoise": _check_denoise, "reconstruct": _check_reconstruct, "generate": _check_generate,
    "anomaly": _check_anomaly,
}
assert set(_TASK_CHECKS) == set(TASKS), "every documented task has its API check"


# -- the release: pin, package data, published files -----------------------------------------------
def _distribution(spec: ModelSpec) -> metadata.Distribution:
    try:
        return metadata.distribution(spec.distribution)
    except metadata.PackageNotFoundError as exc:
        raise _fail(spec, f"its distribution {spec.distribution!r} is not installed.",
                    "Install the plugin (pip install -e .).") from exc


def _release_resource(spec: ModelSpec, dist: metadata.Distribution) -> tuple[str, str]:
    """(package, file name) of the JSON resource the spec's pin is read from."""
    packages = {ep.module.rpartition(".")[0] or ep.module for ep in dist.entry_points if ep.group == "aezoo"}
    for package in sorted(packages):
        for entry in resources.files(package).iterdir():
            if entry.name.endswith(".json") and entry.is_file():
                try:
                    if Release.from_json(entry).weights == spec.weights:
                        return package, entry.name
                except AezooError:
                    continue
    raise _fail(spec, f"its weights pin is not read from a JSON file of {', '.join(sorted(packages))}.",
                "Keep the pin in release.json beside plugin.py, written by 'aezoo push --write-release'.")


def _editable_source(dist: metadata.Distribution) -> Path | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    doc = json.loads(text)
    if not doc.get("dir_info", {}).get("editable") or not doc.get("url", "").startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(doc["url"]).path))


@functools.cache
def _wheel_files(source: Path, stamp: int) -> frozenset[str]:
    """The files of a wheel built from ``source`` (copied first: the build writes nothing there),
    with the build backend its pyproject.toml names, from this environment (no isolation, offline)."""
    import tomllib

    backend = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8")).get("build-system", {}).get(
        "build-backend", "setuptools.build_meta:__legacy__")
    with tempfile.TemporaryDirectory(prefix="aezoo-wheel-") as scratch:
        copy = shutil.copytree(source, Path(scratch) / "source", ignore=shutil.ignore_patterns(*NOT_SOURCES))
        out = Path(scratch) / "wheel"
        out.mkdir()
        module, _, attribute = backend.partition(":")
        code = ("import importlib, sys; b = importlib.import_module(sys.argv[1]);"
                "b = getattr(b, sys.argv[2]) if sys.argv[2] else b; print(b.build_wheel(sys.argv[3]))")
        done = subprocess.run([sys.executable, "-c", code, module, attribute, str(out)], cwd=copy,
                              capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
        if done.returncode != 0:
            raise ConformanceError(f"Building a wheel of {source} failed: {done.stderr.strip()[-600:]}",
                                   f"Install its build backend ({module}) here, and fix pyproject.toml.")
        wheel = out / done.stdout.strip().splitlines()[-1]
        with zipfile.ZipFile(wheel) as archive:
            return frozenset(archive.namelist())


def _package_files(package: str) -> list[str]:
    """Every file of ``package`` but Python sources and bytecode, as paths inside a wheel."""
    root = resources.files(package)
    found, folders = [], [(root, package.replace(".", "/"))]
    while folders:
        folder, prefix = folders.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    folders.append((entry, f"{prefix}/{entry.name}"))
            elif not entry.name.endswith((".py", ".pyc")):
                found.append(f"{prefix}/{entry.name}")
    return sorted(found)


@conformance_check
def check_package_data(spec: ModelSpec) -> None:
    """The weights pin is present and ships: read through ``importlib.resources`` from the installed
    distribution, and listed among its files with every other data file of its package (card.md...);
    for an editable install, in a wheel built from its sources, the file PyPI would get."""
    if spec.weights is None:
        raise _fail(spec, "has no weights pin (release.json), so aezoo.load cannot find its weights.",
                    "Publish the checkpoint: aezoo push FOLDER --repo org/name --write-release src/<pkg>/release.json.")
    dist = _distribution(spec)
    package, _ = _release_resource(spec, dist)
    source = _editable_source(dist)
    if source is not None:
        shipped = _wheel_files(source, (source / "pyproject.toml").stat().st_mtime_ns)
        where = f"a wheel built from {source}"
    else:
        shipped = frozenset(str(p).replace(os.sep, "/") for p in dist.files or ())
        where = f"the installed files of {dist.metadata['Name']}"
    missing = [name for name in _package_files(package) if name not in shipped]
    if missing:
        listed = ", ".join(f'"{m.removeprefix(package.replace(".", "/") + "/")}"' for m in missing)
        raise _fail(spec, f"{', '.join(missing)} not in {where}: users of the wheel would not get them.",
                    f"Declare them as package data: [tool.setuptools.package-data] {package} = [{listed}].")


@conformance_check
def check_release(spec: ModelSpec, folder: Path) -> None:
    """The published checkpoint ``folder`` holds exactly the files of the pin, with its sizes and
    sha256 (read only)."""
    if spec.weights is None:
        raise _fail(spec, "has no weights pin to compare the folder with.", "Publish the checkpoint first.")
    folder = Path(folder)
    pinned = {f.path: (f.size, f.sha256) for f in spec.weights.files}
    present = set(published_files(folder))
    if present != pinned.keys():
        raise _fail(spec, f"{folder} has files {sorted(present)}, the pin lists {sorted(pinned)}.",
                    "Publish the folder again and write the new pin (aezoo push --write-release).")
    for name, (size, digest) in pinned.items():
        path = folder / name
        if path.stat().st_size != size or sha256_of(path) != digest:
            raise _fail(spec, f"{path} differs from the pinned {spec.weights.repo_id}@{spec.weights.revision[:12]} "
                        "(size or sha256).", "Publish the folder again and write the new pin.")


@conformance_check
def check_weights_fit(spec: ModelSpec, folder: Path) -> None:
    """The published tensors fit the model: the checkpoint names this model and its config, and the
    safetensors header (read without any tensor) matches the module built on the meta device."""
    from ..checkpoint import expected_layout
    from ..safetensors_header import read_header

    folder = Path(folder)
    checkpoint = read_config(folder)
    if checkpoint.architecture != spec.name:
        raise _fail(spec, f"{folder / CONFIG_FILE} is a checkpoint of {checkpoint.architecture!r}.",
                    "Publish a checkpoint trained for this model.")
    if checkpoint.config != spec.config:
        differ = sorted(k for k in checkpoint.config.keys() | spec.config.keys()
                        if checkpoint.config.get(k) != spec.config.get(k))
        raise _fail(spec, f"{folder / CONFIG_FILE} has another config than the spec (keys {differ}).",
                    "Make the spec's config the one the weights were trained with.")
    path = folder / WEIGHTS_FILE
    expected = expected_layout_of(spec, spec.config, folder / CONFIG_FILE)
    if expected is None:  # a builder the meta device cannot run
        expected = expected_layout(build(spec))
    try:
        check_layout(expected, read_header(path), path)
    except AezooError as exc:
        raise _fail(spec, exc.what, "Publish weights trained for this spec's config.") from exc


@conformance_check
def check_card(spec: ModelSpec, folder: Path) -> None:
    """The checkpoint's README.md is a model card the Hub reads (huggingface_hub parses its metadata;
    pipeline_tag, license and library_name ``aezoo`` set) and states the spec's metrics."""
    from huggingface_hub import ModelCard

    from ..card import read_card

    path = Path(folder) / CARD_FILE
    if not path.is_file():
        raise _fail(spec, f"{path} is missing.", "Publish the folder aezoo train wrote: it includes the card.")
    try:
        data = ModelCard.load(path).data
    except Exception as exc:  # yaml and huggingface_hub raise many kinds for one case
        raise _fail(spec, f"huggingface_hub cannot read the card {path}: {type(exc).__name__}: {exc}",
                    "Fix its YAML front matter.") from exc
    for key, wanted in (("pipeline_tag", None), ("license", spec.card.license), ("library_name", LIBRARY_NAME)):
        value = getattr(data, key, None)
        if not value or (wanted is not None and value != wanted):
            raise _fail(spec, f"the card {path} has {key} {value!r}" + (f", not {wanted!r}." if wanted else "."),
                        "Write the card with aezoo (aezoo train does), or set it in the front matter.")
    card = read_card(path)
    if card is None or card.metrics != spec.card.metrics:
        raise _fail(spec, f"the card {path} states other metrics than the spec.",
                    "Write the spec's metrics from the same release (aezoo push --write-release).")


# -- everything --------------------------------------------------------------------------------------
def published_folder(spec: ModelSpec) -> Path | None:
    """The model's published checkpoint if it is here without a network (a mirror or the Hub cache),
    verified against its pin; None when it is not published or not local."""
    from ..hub import fetch

    if spec.weights is None:
        return None
    with offline():
        try:
            return fetch(spec.weights)
        except WeightsUnavailableError:
            return None


def check_model(name: str, weights: Path | None = None) -> list[str]:
    """Run every check that applies to ``name``; return the names of those that ran.

    The published weights are read from ``weights`` (a checkpoint folder, e.g. what ``aezoo train``
    wrote and ``aezoo push`` published), else from a mirror or the Hub cache; when they are not
    here, the checks that read them are skipped with a ``ConformanceWarning``."""
    spec = info(name)
    folder = Path(weights) if weights is not None else published_folder(spec)
    ran = []

    def run(check: Callable[..., None], *args: Any) -> None:
        check(spec, *args)
        ran.append(check.__name__)

    for check in (check_spec, check_builds, check_round_trip, check_no_torch_on_listing):
        run(check)
    run(check_task_api, folder)
    if spec.weights is not None:
        run(check_package_data)
        if folder is None:
            warnings.warn(f"{spec.name}: its published weights are not here (no mirror or cached copy); "
                          "check_release, check_weights_fit and check_card skipped. Pass weights=FOLDER.",
                          ConformanceWarning, stacklevel=2)
        else:
            for folder_check in (check_release, check_weights_fit, check_card):
                run(folder_check, folder)
    return ran
