"""ONNX export of every installed model's parts on the shipped weights, checked with onnxruntime here
independently of the exporter's own check; the CLI; the named errors; the inference speed-ups."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import aezoo
from aezoo import accelerate
from aezoo.cli import main
from aezoo.errors import OutputExistsError
from aezoo.export import (
    TOLERANCES,
    ExportCheckError,
    ExportFailedError,
    ExportUnavailableError,
    PartNotFoundError,
    Tolerance,
    export_onnx,
    parts_of,
)
from aezoo.registry import Registry

onnxruntime = pytest.importorskip("onnxruntime", reason="the export extra is not installed: pip install aezoo[export]")

ROOT = Path(__file__).resolve().parents[1]
# The shipped checkpoints are loaded as folders: the same weights as the registered names, without the hub.
SHIPPED = {s.name: ROOT / "weights" / s.name for s in Registry().models() if (ROOT / "weights" / s.name).is_dir()}
_loaded: dict[str, torch.nn.Module] = {}


def shipped(name: str) -> torch.nn.Module:
    """Each shipped model loaded once for the whole file (exports never change the model)."""
    if name not in _loaded:
        _loaded[name] = aezoo.load(SHIPPED[name], device="cpu")
    return _loaded[name]


def _part_names(name: str) -> list[str]:
    """A model's parts, learnt from the architecture built on the meta device (no memory, no weights)."""
    with torch.device("meta"):
        model = aezoo.load(name, pretrained=False, device="meta")
    return [p.name for p in parts_of(model)]


PARTS = [(name, part) for name in sorted(SHIPPED) for part in _part_names(name)]


def run_onnx(path: Path, x: torch.Tensor) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return output


def test_every_shipped_model_has_an_exportable_part():
    assert len(SHIPPED) >= 5
    assert {name for name, _ in PARTS} == set(SHIPPED)


@pytest.mark.parametrize(("name", "part_name"), PARTS)
def test_each_part_runs_in_onnxruntime_as_in_pytorch_at_any_batch_size(name, part_name, tmp_path):
    model = shipped(name)
    path = tmp_path / f"{part_name}.onnx"
    report = export_onnx(model, path, part=part_name)
    assert report.checked and report.path == str(path) and path.is_file()
    assert report.input_shape[0] == "batch" and report.output_shape[0] == "batch"
    assert report.max_abs_error is not None and report.tolerance == {"abs": 1e-4, "rel": 1e-4}
    assert not list(tmp_path.glob(".*")), "no temporary file is left beside the output"
    part = next(p for p in parts_of(model) if p.name == part_name)
    generator = torch.Generator().manual_seed(1234)  # other inputs than the exporter's own check
    for n in (1, 5):
        x = part.inputs(n, generator)
        expected = (part.reference or part.module)(x).detach().double().numpy()
        got = run_onnx(path, x)
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=TOLERANCES["float32"].abs, rtol=TOLERANCES["float32"].rel)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_half_precision_file_takes_float16_and_stays_within_its_tolerance(name, tmp_path):
    model = shipped(name)
    report = export_onnx(model, tmp_path / "half.onnx", half=True)
    assert report.dtype == "float16" and report.max_abs_error is not None
    session = onnxruntime.InferenceSession(str(tmp_path / "half.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].type == "tensor(float16)"
    assert next(model.parameters()).dtype == torch.float32, "the loaded model stays float32"
    part = parts_of(model)[0]
    x = part.inputs(4, torch.Generator().manual_seed(7))
    got = run_onnx(tmp_path / "half.onnx", x.half()).astype(np.float64)
    expected = (part.reference or part.module)(x).detach().double().numpy()
    np.testing.assert_allclose(got, expected, atol=TOLERANCES["float16"].abs, rtol=TOLERANCES["float16"].rel)


def test_the_denoisers_encoder_and_decoder_files_compose_to_denoise(tmp_path):
    name = next(n for n in sorted(SHIPPED) if shipped(n).aezoo.spec.task == "denoise")
    model = shipped(name)
    export_onnx(model, tmp_path / "encoder.onnx", part="encoder")
    export_onnx(model, tmp_path / "decoder.onnx", part="decoder")
    images = torch.rand(3, *model.image_shape, generator=torch.Generator().manual_seed(3))
    codes = run_onnx(tmp_path / "encoder.onnx", images)
    restored = run_onnx(tmp_path / "decoder.onnx", torch.from_numpy(codes))
    np.testing.assert_allclose(restored, model.denoise(images).numpy(), atol=1e-4, rtol=1e-4)


def test_cli_exports_a_registered_name_with_json_and_prints_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))  # the pinned weights, from the checkout's mirror
    output = tmp_path / "detector.onnx"
    result = CliRunner().invoke(main, ["export", "fc-ae-fraud", "--format", "onnx", "-o", str(output), "--json",
                                       "--offline"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["part"] == "detector" and report["path"] == str(output) and output.is_file()
    assert report["checked"] and report["max_abs_error"] >= 0 and report["batch_sizes"] == [1, 5]

    result = CliRunner().invoke(main, ["export", str(SHIPPED["fc-ae-fraud"]), "--part", "encoder",
                                       "-o", str(tmp_path / "e.onnx"), "--no-check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "e.onnx")
    assert "not checked" in result.stderr


def test_default_output_is_named_after_model_and_part(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = export_onnx(shipped("fc-ae-fraud"), check=False, half=True)
    assert report.path == "fc-ae-fraud-detector-fp16.onnx" and (tmp_path / report.path).is_file()
    assert not report.checked and report.max_abs_error is None


def test_unknown_part_is_a_named_error_that_lists_the_parts(tmp_path):
    with pytest.raises(PartNotFoundError, match="encoder"):
        export_onnx(shipped("dcgan-faces"), tmp_path / "x.onnx", part="encoder")
    result = CliRunner().invoke(main, ["export", str(SHIPPED["dcgan-faces"]), "--part", "detector",
                                       "-o", str(tmp_path / "x.onnx")])
    assert result.exit_code == 1 and "has no part 'detector'" in result.output and "generator" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.onnx").exists()


def test_a_check_beyond_tolerance_writes_nothing(tmp_path, monkeypatch):
    # A zero tolerance: the real float32 differences (about 1e-6) then exceed it.
    monkeypatch.setitem(TOLERANCES, "float32", Tolerance(abs=0.0, rel=0.0))
    with pytest.raises(ExportCheckError, match="max abs error"):
        export_onnx(shipped("conv-vae-faces"), tmp_path / "x.onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_opset_the_exporter_cannot_write_is_a_named_error(tmp_path):
    with pytest.raises(ExportFailedError, match="18 and later"):
        export_onnx("no-such-model", tmp_path / "x.onnx", opset=7)  # refused before the model is looked up
    # Above the exporter's own opset it asks a converter, which keeps 18 when it cannot convert.
    result = CliRunner().invoke(main, ["export", str(SHIPPED["fc-ae-fraud"]), "--opset", "30", "-o",
                                       str(tmp_path / "x.onnx")])
    assert result.exit_code == 1 and "wrote opset 18 when asked for 30" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.onnx").exists()
    assert export_onnx(shipped("fc-ae-fraud"), tmp_path / "y.onnx", opset=21, check=False).opset == 21


def test_an_existing_output_is_kept_unless_overwrite(tmp_path):
    output = tmp_path / "x.onnx"
    output.write_text("mine")
    with pytest.raises(OutputExistsError):
        export_onnx(shipped("fc-ae-fraud"), output, check=False)
    assert output.read_text() == "mine"
    export_onnx(shipped("fc-ae-fraud"), output, check=False, overwrite=True)
    assert output.stat().st_size > 1000


def test_missing_exporter_packages_are_a_named_error_before_loading(tmp_path, monkeypatch):
    # A None entry in sys.modules is how Python marks a package as not importable: the only way to
    # take an installed package away from this one process.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ExportUnavailableError, match=r"aezoo\[export\]"):
        export_onnx("no-such-model", tmp_path / "x.onnx")
    result = CliRunner().invoke(main, ["export", "no-such-model"])
    assert result.exit_code == 1 and "onnxruntime" in result.output and "pip install" in result.output


# ---- aezoo.accelerate: half precision and torch.compile for PyTorch inference ----------------------------------

def test_half_precision_is_refused_on_the_cpu_with_a_named_error():
    model = aezoo.load(SHIPPED["fc-dae-mnist"], device="cpu")
    with pytest.raises(accelerate.HalfPrecisionUnavailableError, match="slower than float32"):
        accelerate.prepare_for_inference(model, half=True)
    assert next(model.parameters()).dtype == torch.float32


def test_compile_without_a_compiler_is_a_named_error_and_changes_nothing(monkeypatch):
    monkeypatch.setenv("PATH", "")  # no C++ compiler can be found
    monkeypatch.delenv("CXX", raising=False)
    model = aezoo.load(SHIPPED["fc-dae-mnist"], device="cpu")
    with pytest.raises(accelerate.CompileUnavailableError, match="C\\+\\+ compiler"):
        accelerate.prepare_for_inference(model, compile=True)
    assert "_compiled_call_impl" not in vars(model) or model._compiled_call_impl is None


@pytest.mark.skipif(accelerate._compiler_missing("cpu") is not None, reason="torch.compile needs a C++ compiler here")
def test_compiled_model_gives_the_same_outputs(tmp_path):
    torch._dynamo.reset()
    eager = aezoo.load(SHIPPED["fc-dae-mnist"], device="cpu")
    compiled = accelerate.compile_for_inference(aezoo.load(SHIPPED["fc-dae-mnist"], device="cpu"))
    for n in (1, 7):  # dynamic: one compilation serves both batch sizes
        images = torch.rand(n, *eager.image_shape, generator=torch.Generator().manual_seed(n))
        torch.testing.assert_close(compiled.denoise(images), eager.denoise(images), atol=1e-5, rtol=1e-5)
