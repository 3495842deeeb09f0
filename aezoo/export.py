"""Export a model's parts (encoder, decoder, denoiser, generator, discriminator, detector) to ONNX,
checked with onnxruntime against the model's own PyTorch task API.

    report = aezoo.export.export_onnx("fc-dae-mnist", "denoiser.onnx")   # checked by default
    report.max_abs_error, report.tolerance

Why ``torch.onnx.export(dynamo=True)``: it is torch's default exporter since 2.9 (the TorchScript one
warns that it will be removed), and it traces a batch axis symbolically, so one file runs at any batch
size. It cannot trace a Python ``if`` on tensor values, which the task methods use to refuse NaN input:
each part is therefore the model's pure tensor computation, and the check compares it with the task
method that users call (``denoise``, ``encode``, ``decode``, ``generate``, ``decision_function``...).
Every part file is self-contained (weights inside; all are far below ONNX's 2 GB limit).

Imports torch, onnx and onnxruntime only when called.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .accelerate import HalfPrecisionUnavailableError
from .checkpoint import atomic_write
from .errors import AezooError, OutputExistsError

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from .training.steps.contracts import AAEModel, GANModel, VAEModel

    # What each family's parts read of its model (the first-party models have these members), for type
    # checkers: torch types every attribute a module sets at run time as Tensor | Module.
    class _ImageModel(nn.Module):
        image_shape: tuple[int, int, int]

    class _Denoiser(_ImageModel):  # denoising-ae
        encoder: nn.Linear
        decoder: nn.Linear
        negative_slope: float

        def denoise(self, images: torch.Tensor) -> torch.Tensor: ...

    class _Detector(nn.Module):  # undercomplete-ae
        config: dict[str, Any]
        n_features: int
        score_kind: str
        encoder: nn.Module
        decoder: nn.Module
        mean: torch.Tensor
        scale: torch.Tensor
        error_scale: torch.Tensor
        log_mask: torch.Tensor

        def decision_function(self, x: Any) -> np.ndarray: ...

    class _VAE(_ImageModel, VAEModel):
        def encode(self, images: torch.Tensor) -> torch.Tensor: ...

        def decode(self, z: torch.Tensor) -> torch.Tensor: ...

    class _AAE(_ImageModel, AAEModel):
        def encode(self, images: torch.Tensor) -> torch.Tensor: ...

        def decode(self, z: torch.Tensor) -> torch.Tensor: ...

    class _GAN(nn.Module, GANModel):
        channels: int
        image_size: int

        def generate(self, z: torch.Tensor) -> torch.Tensor: ...

_Model = TypeVar("_Model", bound="nn.Module")

EXTRA_HINT = "Install the exporter: pip install 'aezoo[export]'."
CHECK_BATCH_SIZES = (1, 5)  # a single item and a batch: the file's batch axis is dynamic
CHECK_SEED = 0
MIN_OPSET = 18  # the dynamo exporter writes opset 18 and later; older ones need a converter that often fails


@dataclass(frozen=True)
class Tolerance:
    """``|onnx - torch| <= abs + rel * |torch|`` elementwise, as numpy.allclose."""

    abs: float
    rel: float


# float32: the same arithmetic in another order (measured max error 1e-6 on the shipped models).
# float16: the part runs in half precision and is compared with the float32 model; 11-bit mantissas
# give about 1e-3 relative error per operation (measured on the shipped models: see docs/export.md).
TOLERANCES = {"float32": Tolerance(abs=1e-4, rel=1e-4), "float16": Tolerance(abs=2e-2, rel=2e-2)}


class ExportUnavailableError(AezooError):
    """The ONNX exporter's packages (onnx, onnxruntime, onnxscript) are not installed."""


class PartNotFoundError(AezooError, LookupError):
    """The model has no part of that name to export."""


class ExportFailedError(AezooError):
    """torch could not turn the part into an ONNX graph."""


class ExportCheckError(AezooError):
    """onnxruntime's outputs differ from PyTorch's by more than the stated tolerance; nothing was written."""


@dataclass(frozen=True)
class Part:
    """One exportable computation of a model: a single tensor in, a single tensor out.

    ``module`` is what is traced; ``reference`` is the model's task method that users call (the
    check compares the ONNX file with it), None where the model has none (``module`` is then the reference)."""

    name: str
    summary: str
    module: nn.Module
    reference: Callable[[torch.Tensor], torch.Tensor] | None
    inputs: Callable[[int, torch.Generator], torch.Tensor]  # a random batch of n valid inputs
    input_name: str
    output_name: str


@dataclass(frozen=True)
class ExportReport:
    """What ``export_onnx`` wrote and how closely onnxruntime reproduced PyTorch."""

    model: str
    part: str
    path: str
    dtype: str
    opset: int
    input_name: str
    input_shape: list[Any]  # "batch" for the dynamic axis
    output_name: str
    output_shape: list[Any]
    checked: bool
    batch_sizes: list[int]
    max_abs_error: float | None
    max_rel_error: float | None  # relative to |torch| where |torch| > the absolute tolerance
    tolerance: dict[str, float]
    provider: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _body(model: _Model, fn: Callable[[_Model, torch.Tensor], torch.Tensor]) -> nn.Module:
    """``fn(model, x)`` as a module that torch.export can trace, with the model as its child."""
    from torch import nn

    class Body(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return fn(self.model, x)

    return Body().eval()


def _images(model: _ImageModel) -> Callable[[int, torch.Generator], torch.Tensor]:
    import torch

    return lambda n, g: torch.rand(n, *model.image_shape, generator=g)


def _codes(width: int) -> Callable[[int, torch.Generator], torch.Tensor]:
    import torch

    return lambda n, g: torch.randn(n, width, generator=g)


def _rows(model: _Detector) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Raw rows as the detector's normal training data looks: N(0, 1) in its z-scored units, mapped back."""
    import torch

    def draw(n: int, g: torch.Generator) -> torch.Tensor:
        x = torch.randn(n, model.n_features, generator=g) * model.scale + model.mean
        return torch.where(model.log_mask, torch.expm1(x), x)

    return draw


def _standardized(model: _Detector, x: torch.Tensor) -> torch.Tensor:
    """``TabularAE.standardize`` without its Python branch on the log mask, which torch.export cannot trace."""
    import torch

    return (torch.where(model.log_mask, torch.log1p(x.clamp_min(0)), x) - model.mean) / model.scale


def _scores(model: _Detector, x: torch.Tensor) -> torch.Tensor:
    """``TabularAE.forward`` (per-row anomaly scores of raw rows) on the traceable standardization."""
    z = _standardized(model, x)
    r = model.decoder(model.encoder(z)) - z
    if model.score_kind == "mse":
        return r.pow(2).mean(dim=1)
    scaled = r.abs() / model.error_scale
    return scaled.mean(dim=1) if model.score_kind == "scaled_mae" else scaled.pow(2).mean(dim=1)


def _detector_reference(model: _Detector) -> Callable[[torch.Tensor], torch.Tensor]:
    import torch

    return lambda x: torch.from_numpy(model.decision_function(x))


def _fc_dae_parts(module: nn.Module) -> list[Part]:
    import torch
    from torch.nn import functional

    m = cast("_Denoiser", module)

    def encode(model: _Denoiser, x: torch.Tensor) -> torch.Tensor:
        return functional.leaky_relu(model.encoder(x.flatten(1)), model.negative_slope)

    def decode(model: _Denoiser, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(model.decoder(h)).reshape(-1, *model.image_shape)

    hidden = m.encoder.out_features
    return [
        Part("denoiser", "noisy images (N, C, H, W) in [0, 1] -> clean images", _body(m, lambda model, x: model(x)),
             m.denoise, _images(m), "images", "denoised"),
        Part("encoder", f"images (N, C, H, W) -> hidden codes (N, {hidden})", _body(m, encode), None,
             _images(m), "images", "codes"),
        Part("decoder", f"hidden codes (N, {hidden}) -> images (N, C, H, W)", _body(m, decode), None,
             _codes(hidden), "codes", "images"),
    ]


def _detector_parts(module: nn.Module) -> list[Part]:
    m = cast("_Detector", module)
    code = f"codes (N, {m.config['hidden'][-1]})"
    return [
        Part("detector", f"raw rows (N, {m.n_features}) -> anomaly scores (N,), the model's scaling included",
             _body(m, _scores), _detector_reference(m), _rows(m), "rows", "scores"),
        Part("encoder", f"raw rows (N, {m.n_features}) -> {code}, the model's scaling included",
             _body(m, lambda model, x: model.encoder(_standardized(model, x))), None, _rows(m), "rows", "codes"),
    ]


def _vae_parts(module: nn.Module) -> list[Part]:
    import torch

    m = cast("_VAE", module)

    return [
        Part("decoder", f"latent codes (N, {m.latent_dim}) -> images (N, C, H, W) in [0, 1]",
             _body(m, lambda model, z: torch.sigmoid(model.decode_logits(z))), m.decode, _codes(m.latent_dim),
             "codes", "images"),
        Part("encoder", f"images (N, C, H, W) -> posterior means (N, {m.latent_dim})",
             _body(m, lambda model, x: model.posterior(x)[0]), m.encode, _images(m), "images", "codes"),
    ]


def _aae_parts(module: nn.Module) -> list[Part]:
    m = cast("_AAE", module)
    return [
        Part("decoder", f"latent codes (N, {m.latent_dim}) -> images (N, C, H, W) in [0, 1]",
             _body(m, lambda model, z: model.decode(z)), m.decode, _codes(m.latent_dim), "codes", "images"),
        Part("encoder", f"images (N, C, H, W) -> latent codes (N, {m.latent_dim})",
             _body(m, lambda model, x: model.encoder(x)), m.encode, _images(m), "images", "codes"),
    ]


def _gan_parts(module: nn.Module) -> list[Part]:
    import torch

    m = cast("_GAN", module)

    def images(n: int, g: torch.Generator) -> torch.Tensor:
        return torch.rand(n, m.channels, m.image_size, m.image_size, generator=g)

    return [
        Part("generator", f"latent codes (N, {m.nz}) -> images (N, C, H, W) in [0, 1]",
             _body(m, lambda model, z: model.generate(z)), m.generate, _codes(m.nz), "codes", "images"),
        Part("discriminator", "images (N, C, H, W) in [0, 1] -> one logit per image (real > 0)",
             _body(m, lambda model, x: model.discriminate(x)), m.discriminate, images, "images", "logits"),
    ]


# Each family's parts, the first being the default: the model's main task (decoding codes into images for
# the generative autoencoders, as ``sample`` does).
FAMILIES: dict[str, Callable[[nn.Module], list[Part]]] = {
    "denoising-ae": _fc_dae_parts,
    "undercomplete-ae": _detector_parts,
    "vae": _vae_parts,
    "aae": _aae_parts,
    "gan": _gan_parts,
}


def parts_of(model: nn.Module) -> list[Part]:
    """The exportable parts of a loaded model, its main task's part first."""
    from .api import model_info

    info = model_info(model)
    family = info.spec.family
    if family not in FAMILIES:
        raise PartNotFoundError(
            f"{info.name} is of the family {family!r}, which aezoo cannot export yet "
            f"(it exports {', '.join(sorted(FAMILIES))}).",
            "Export its modules with torch.onnx.export directly.",
        )
    return FAMILIES[family](model)


def _part(model: nn.Module, name: str | None) -> Part:
    from .api import model_info

    parts = parts_of(model)
    if name is None:
        return parts[0]
    for part in parts:
        if part.name == name:
            return part
    raise PartNotFoundError(
        f"{model_info(model).name} has no part {name!r}.",
        "Its parts: " + "; ".join(f"{p.name} ({p.summary})" for p in parts) + " (the first is the default).",
    )


def require_exporter() -> None:
    """Fail with a named error, before any work, when an export package is missing."""
    import importlib.util

    missing = [name for name in ("onnx", "onnxruntime", "onnxscript") if importlib.util.find_spec(name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ExportUnavailableError(f"ONNX export needs {', '.join(missing)}, which {verb} not installed.", EXTRA_HINT)


def _load(ref: Any, hub: dict[str, Any]) -> nn.Module:
    """A model on the CPU (where the export traces), from a reference (``hub``: ``aezoo.load``'s revision,
    cache and token options) or an already loaded model."""
    from torch import nn

    from .api import load

    if isinstance(ref, nn.Module):
        if not hasattr(ref, "aezoo"):
            raise PartNotFoundError("The module was not loaded by aezoo (it has no .aezoo).",
                                    "Load it with aezoo.load(name) first.")
        if next(ref.parameters()).device.type == "cpu":
            return ref
        moved = copy.deepcopy(ref).cpu()
        moved.aezoo = ref.aezoo
        return moved.eval()
    return load(ref, device="cpu", **hub)


def export_onnx(
    ref: Any, path: str | os.PathLike[str] | None = None, *, part: str | None = None, opset: int | None = None,
    check: bool = True, half: bool = False, overwrite: bool = False, hub: dict[str, Any] | None = None,
) -> ExportReport:
    """Write one part of a model (a name, folder, ``hf://`` reference or loaded model) as an ONNX file
    with a dynamic batch axis. ``check`` runs onnxruntime on fixed random batches of 1 and 5 items
    and compares with the model's PyTorch task method; beyond ``TOLERANCES`` nothing is written
    (``ExportCheckError``). ``half`` stores weights and computes in float16 (compared with float32).
    ``path`` defaults to ``NAME-PART.onnx`` (``NAME-PART-fp16.onnx``) in the working directory; ``hub``
    holds ``aezoo.load``'s options for where the weights come from (revision, cache_dir, token...)."""
    require_exporter()
    if opset is not None and opset < MIN_OPSET:
        raise ExportFailedError(f"torch's ONNX exporter writes opset {MIN_OPSET} and later, not {opset}.",
                                f"Pass --opset {MIN_OPSET} or later, or leave it out.")
    from .api import model_info

    model = _load(ref, hub or {})
    name = model_info(model).name
    chosen = _part(model, part)
    dtype = "float16" if half else "float32"
    default = f"{name}-{chosen.name}{'-fp16' if half else ''}.onnx"
    path = Path(path if path is not None else default)
    if path.is_dir() or (path.exists() and not overwrite):
        raise OutputExistsError(f"{path} already exists{' and is a folder' if path.is_dir() else ''}.",
                                "Pass overwrite=True (--overwrite) to replace it, or write somewhere else.")
    module = copy.deepcopy(chosen.module).half().eval() if half else chosen.module  # the model stays float32
    onnx_bytes = _export(module, chosen, opset, half)
    provider, errors = _check(onnx_bytes, chosen, half) if check else (None, None)
    import onnx

    graph = onnx.load_from_string(onnx_bytes)
    written = next(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx"))
    if opset is not None and written != opset:
        raise ExportFailedError(f"torch's ONNX exporter wrote opset {written} when asked for {opset}.",
                                "Leave --opset out to use the exporter's own; nothing was written.")
    report = ExportReport(
        model=name, part=chosen.name, path=str(path), dtype=dtype, opset=written,
        input_name=chosen.input_name, input_shape=_shape(graph.graph.input[0]),
        output_name=chosen.output_name, output_shape=_shape(graph.graph.output[0]),
        checked=check, batch_sizes=list(CHECK_BATCH_SIZES) if check else [],
        max_abs_error=errors[0] if errors else None, max_rel_error=errors[1] if errors else None,
        tolerance=asdict(TOLERANCES[dtype]), provider=provider,
    )
    atomic_write(path, onnx_bytes)
    return report


def _export(module: nn.Module, part: Part, opset: int | None, half: bool) -> bytes:
    """The part as a self-contained ONNX model (weights inside), serialized."""
    import io
    import warnings

    import torch

    example = part.inputs(max(CHECK_BATCH_SIZES), torch.Generator().manual_seed(CHECK_SEED))
    if half:
        example = example.half()
    batch = torch.export.Dim("batch", min=1)
    try:  # silenced: the exporter prints its progress on stdout and logs or warns about choices it made
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), _quiet("torch.onnx", "onnxscript"):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module, (example,), dynamo=True, opset_version=opset, input_names=[part.input_name],
                output_names=[part.output_name], dynamic_shapes=({0: batch},), verbose=False,
            )
            # with dynamo=True it returns an ONNXProgram; torch annotates the return as ONNXProgram | None
            return program.model_proto.SerializeToString()  # type: ignore[union-attr]
    except Exception as exc:
        raise ExportFailedError(
            f"torch.onnx.export could not export the {part.name} ({_first_line(exc)}).",
            "Try another --opset, or report it with AEZOO_DEBUG=1's traceback.",
        ) from exc


@contextlib.contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """No records from the named loggers and their children for a block (they would reach the user's stderr)."""
    previous = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def _providers(half: bool) -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    preferred = [p for p in ("CUDAExecutionProvider",) if half and p in available]
    return preferred + ["CPUExecutionProvider"]


def _check(onnx_bytes: bytes, part: Part, half: bool) -> tuple[str, tuple[float, float]]:
    """Run the file in onnxruntime on the check batches; the largest errors against the task method."""
    import numpy as np
    import onnxruntime
    import torch

    tolerance = TOLERANCES["float16" if half else "float32"]
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: the runtime otherwise warns about its own graph choices
    try:
        session = onnxruntime.InferenceSession(onnx_bytes, options, providers=_providers(half))
    except Exception as exc:
        raise _runtime_error(exc, part, half) from exc
    generator = torch.Generator().manual_seed(CHECK_SEED)
    worst_abs = worst_rel = 0.0
    for n in CHECK_BATCH_SIZES:
        x = part.inputs(n, generator)
        expected = (part.reference or part.module)(x).detach().to(torch.float64).cpu().numpy()
        try:
            (got,) = session.run(None, {part.input_name: (x.half() if half else x).numpy()})
        except Exception as exc:
            raise _runtime_error(exc, part, half) from exc
        abs_error, rel_error = max_errors(got, expected, tolerance)
        worst_abs, worst_rel = max(worst_abs, abs_error), max(worst_rel, rel_error)
        if got.shape != expected.shape or not np.allclose(got.astype(np.float64), expected, atol=tolerance.abs,
                                                           rtol=tolerance.rel):
            raise ExportCheckError(
                f"onnxruntime's {part.name} differs from PyTorch's at batch size {n}: shape {got.shape} vs "
                f"{expected.shape}, max abs error {abs_error:.3g}, max rel error {rel_error:.3g} "
                f"(tolerance abs {tolerance.abs:g}, rel {tolerance.rel:g}); nothing was written.",
                "Try another --opset or float32 (no --half); export with --no-check to keep the file anyway.",
            )
    return session.get_providers()[0], (worst_abs, worst_rel)


def max_errors(got: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> tuple[float, float]:
    """Largest absolute error, and largest relative error where ``|expected|`` exceeds ``tolerance.abs``."""
    import numpy as np

    if got.shape != expected.shape or not expected.size:
        return (float("inf"), float("inf")) if got.shape != expected.shape else (0.0, 0.0)
    difference = np.abs(got.astype(np.float64) - expected)
    large = np.abs(expected) > tolerance.abs
    relative = difference[large] / np.abs(expected[large])
    return float(difference.max()), float(relative.max()) if relative.size else 0.0


def _runtime_error(exc: Exception, part: Part, half: bool) -> AezooError:
    first = _first_line(exc)
    if half:
        return HalfPrecisionUnavailableError(
            f"onnxruntime cannot run the float16 {part.name} on {', '.join(_providers(half))} ({first}).",
            "Export without --half, or with --no-check to run the file on a runtime with float16 kernels (a GPU).",
        )
    return ExportCheckError(f"onnxruntime cannot run the exported {part.name} ({first}).",
                            "Try another --opset, or export with --no-check to inspect the file.")


def _shape(value: Any) -> list[Any]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
