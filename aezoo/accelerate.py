"""Opt-in speed-ups for inference with a loaded model: half precision and ``torch.compile``.

    model = aezoo.load("conv-vae-faces")
    model = prepare_for_inference(model, half=True, compile=True)   # where the device supports them
    images = model.decode(codes)                                      # the task API as before

Both change the model in place (and return it) and keep its task API. Neither is on by default:
compiling costs seconds to minutes at the first call of each input shape, and half precision changes
results by about 1e-3 (docs/export.md). Imports torch only when called.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import TYPE_CHECKING

from .errors import AezooError

if TYPE_CHECKING:
    from torch import nn


class HalfPrecisionUnavailableError(AezooError):
    """Half precision (float16) cannot run for this model on this device or runtime."""


class CompileUnavailableError(AezooError):
    """``torch.compile`` cannot compile for this device: the compiler its backend needs is missing."""


def _device(model: nn.Module) -> str:
    return next(model.parameters()).device.type


def half_for_inference(model: nn.Module) -> nn.Module:
    """Weights and computation in float16, on a GPU (CUDA or MPS). Refused on the CPU, where PyTorch's
    float16 kernels run slower than float32 (3x for fc-dae-mnist, 8x for conv-vae-faces, measured), and
    for anomaly detectors, whose threshold was fitted on float32 scores."""
    device = _device(model)
    if device not in ("cuda", "mps"):
        raise HalfPrecisionUnavailableError(
            f"Half precision on the {device} runs slower than float32 in PyTorch, so aezoo does not offer it there.",
            "Load the model on a GPU (device='cuda'), or export it: aezoo export NAME --format onnx --half.",
        )
    from .api import model_info

    info = model_info(model)
    if info.spec.task == "anomaly":
        raise HalfPrecisionUnavailableError(
            f"{info.name} compares float32 scores with a threshold fitted on float32 scores; in float16 it "
            "would flag other rows.",
            "Run the detector in float32 (it is small: half precision would not make it faster).",
        )
    return model.half()


def _compiler_missing(device: str) -> str | None:
    """What the inductor backend lacks to compile for ``device``, or None."""
    if device == "cpu":
        compilers = [os.environ.get("CXX"), "g++", "clang++", "c++"]
        return None if any(c and shutil.which(c) for c in compilers) else "a C++ compiler (g++ or clang++)"
    if device == "cuda" and importlib.util.find_spec("triton") is None:
        return "triton (pip install triton)"
    return None


def _require_compiler(model: nn.Module) -> None:
    device = _device(model)
    missing = _compiler_missing(device)
    if missing:
        raise CompileUnavailableError(f"torch.compile needs {missing} to compile for the {device}, and there is none.",
                                      "Install it, or run the model without compile.")


def compile_for_inference(model: nn.Module, *, dynamic: bool = True) -> nn.Module:
    """Compile the model's forward and each of its child modules with ``torch.compile`` (in place), so the
    task methods, which call either, run compiled. ``dynamic`` compiles once for every batch size
    rather than once per size. The compilation itself happens at the first call."""
    _require_compiler(model)
    model.compile(dynamic=dynamic)
    for child in model.children():
        child.compile(dynamic=dynamic)
    return model


def prepare_for_inference(model: nn.Module, *, half: bool = False, compile: bool = False) -> nn.Module:
    """The opt-in speed-ups in one call, checked before anything changes."""
    if compile:
        _require_compiler(model)
    if half:
        half_for_inference(model)
    if compile:
        compile_for_inference(model)
    return model
