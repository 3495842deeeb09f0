"""Inference time of each model's main part: PyTorch (eager, and torch.compile) against onnxruntime on
the exported file (float32, and float16), one CPU thread each, at batch 1 and 64.

Run by hand: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/export_speed.py [REF ...] [--json out.json]`
(REF: model names or checkpoint folders; default every installed model). Each timing is the median of
interleaved repeats: every round times each runner once, so a slow moment of the machine hits them all.
Results go in docs/export.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import torch

import aezoo
from aezoo.export import export_onnx, parts_of

BATCHES = (1, 64)
ROUNDS = 21
SAMPLE_SECONDS = 0.02  # each timing repeats the call until about this long, so the timer's resolution is no issue


def session(path: Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_runner(path: Path, x: torch.Tensor) -> Callable[[], object]:
    runtime = session(path)
    feed = {runtime.get_inputs()[0].name: x.numpy()}
    return lambda: runtime.run(None, feed)


def torch_runner(module: torch.nn.Module, x: torch.Tensor) -> Callable[[], object]:
    def call() -> object:
        with torch.inference_mode():
            return module(x)

    return call


def medians(runners: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Seconds per call of each runner: the median of ROUNDS interleaved samples."""
    repeats = {}
    for name, run in runners.items():
        run()  # warm up (and compile)
        start = time.perf_counter()
        run()
        repeats[name] = max(1, int(SAMPLE_SECONDS / max(time.perf_counter() - start, 1e-7)))
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(ROUNDS):
        for name, run in runners.items():
            start = time.perf_counter()
            for _ in range(repeats[name]):
                run()
            samples[name].append((time.perf_counter() - start) / repeats[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def measure(ref: str, folder: Path) -> list[dict[str, object]]:
    model = aezoo.load(ref, device="cpu")
    part = parts_of(model)[0]
    fp32, fp16 = folder / f"{model.aezoo.name}.onnx", folder / f"{model.aezoo.name}-fp16.onnx"
    export_onnx(model, fp32, part=part.name)
    export_onnx(model, fp16, part=part.name, half=True)
    torch._dynamo.reset()
    compiled = torch.compile(part.module, dynamic=True)
    rows = []
    for batch in BATCHES:
        x = part.inputs(batch, torch.Generator().manual_seed(0))
        start = time.perf_counter()
        with torch.inference_mode():
            compiled(x)  # the first call of a shape compiles
        compile_seconds = time.perf_counter() - start
        seconds = medians({
            "torch": torch_runner(part.module, x), "torch.compile": torch_runner(compiled, x),
            "onnxruntime": onnx_runner(fp32, x), "onnxruntime fp16": onnx_runner(fp16, x.half()),
        })
        rows.append({"model": model.aezoo.name, "part": part.name, "batch": batch,
                     "ms": {k: v * 1e3 for k, v in seconds.items()}, "first compiled call s": compile_seconds})
        print(row_line(rows[-1]), flush=True)
    return rows


HEADER = ("| model | part | batch | torch ms | torch.compile ms | onnxruntime ms | onnxruntime fp16 ms | "
          "torch / onnxruntime | first compiled call s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def row_line(row: dict) -> str:
    ms = row["ms"]
    cells = [row["model"], row["part"], row["batch"], *(f"{ms[k]:.3g}" for k in ms),
             f"{ms['torch'] / ms['onnxruntime']:.2f}", f"{row['first compiled call s']:.1f}"]
    return "| " + " | ".join(map(str, cells)) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("refs", nargs="*", help="model names or checkpoint folders (default: every installed model)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    refs = args.refs or [s.name for s in aezoo.list_models() if s.weights]
    print(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, numpy {np.__version__}, 1 thread")
    print(HEADER)
    with tempfile.TemporaryDirectory() as folder:
        rows = [row for ref in refs for row in measure(ref, Path(folder))]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
