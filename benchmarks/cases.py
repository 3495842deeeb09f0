"""The rows of `make bench`, one function per group; each names its floor and its target.

Targets (issue "Performance and scale"): inference paths at least 0.8x their raw floor, a warm
load at most 1.2x (ratio >= 0.83), `aezoo --help`/`list` at most 1.5x `python -c "import click"`
(ratio >= 0.67), training at least 0.9x a plain loop.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import aezoo
from benchmarks.run import Bench

INFERENCE, LOAD, STARTUP, TRAINING = 0.8, 1 / 1.2, 1 / 1.5, 0.9
CHUNK = 8192  # rows per forward pass of the hand-written scoring floor (the detector's own chunk)


def startup(bench: Bench, scratch: Path, env: dict[str, str], **_: object) -> None:
    cli = [sys.executable, "-c", "from aezoo.cli import main; main()"]
    click = [sys.executable, "-c", "import click"]
    listing = [*cli, "list"]
    for case, command in (("aezoo --help", [*cli, "--help"]), ("aezoo list", listing)):
        bench.compare("startup", case, lambda: _run(click, env), lambda c=command: _run(c, env), target=STARTUP,
                      repeats=bench.repeats(15), clock=_children_cpu, floor_name='python -c "import click"',
                      note="CPU time of the child process" + ("; the listing cache is warm after the first run"
                                                              if command is listing else ""))
    uncached = {**env, "AEZOO_HOME": str(scratch / "no-cache-home")}
    bench.compare("startup", "aezoo list, first run (discovers every plugin)", lambda: _run(click, env),
                  lambda: (shutil.rmtree(uncached["AEZOO_HOME"], ignore_errors=True), _run(listing, uncached)),
                  target=None, repeats=bench.repeats(15), clock=_children_cpu, floor_name='python -c "import click"',
                  note="CPU time of the child, listing cache removed before each run; no target")
    fresh = {**env, "AEZOO_HOME": str(scratch / "fresh-home")}
    load = [sys.executable, "-c", "import torch, aezoo; aezoo.load('fc-dae-mnist', device='cpu')"]
    start = _children_cpu()
    _run(load, fresh)
    bench.add("startup", "first aezoo.load in a fresh process (sha256 of 7.4 MB)", None, _children_cpu() - start,
              target=None, floor_name="-", note="CPU time of the child, import torch included; no target")


def _run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, check=True, capture_output=True, env=env)


def _children_cpu() -> float:
    """CPU time (user + system) of this process's finished children, from the kernel's accounting."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load(bench: Bench, scratch: Path, env: dict[str, str], **_: object) -> None:
    from safetensors.torch import load_file

    from aezoo.api import build

    os.environ.update({k: env[k] for k in ("AEZOO_HOME", "HF_HUB_OFFLINE", "AEZOO_MIRRORS")})
    for name in ("fc-dae-mnist", "conv-vae-faces"):
        spec = aezoo.info(name)
        folder = aezoo.download(name)

        def floor(spec=spec, folder=folder) -> None:
            model = build(spec)
            model.load_state_dict(load_file(folder / "model.safetensors"))
            model.eval()

        bench.compare("load", f"warm aezoo.load('{name}')", floor, lambda n=name: aezoo.load(n, device="cpu"),
                      target=LOAD, repeats=bench.repeats(15),
                      floor_name="build + safetensors load_file + load_state_dict")


def scoring(bench: Bench, scratch: Path, env: dict[str, str], **_: object) -> None:
    import pandas
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

    from aezoo.scoring import score_csv

    os.environ.update({k: env[k] for k in ("AEZOO_HOME", "HF_HUB_OFFLINE", "AEZOO_MIRRORS")})
    detector = aezoo.load("fc-ae-fraud", device="cpu")
    features = list(detector.feature_names)
    sizes = (10_000, 100_000) if bench.quick else (10_000, 100_000, 1_000_000)
    for n in sizes:
        frame = synthetic_creditcard_frame(n)
        x = frame[features].to_numpy()
        repeats = bench.repeats(9 if n < 1_000_000 else 5)

        def floor_numpy(x=x) -> np.ndarray:
            out = np.empty(len(x))
            with torch.inference_mode():
                for s in range(0, len(x), CHUNK):
                    out[s:s + CHUNK] = detector(torch.from_numpy(x[s:s + CHUNK].astype(np.float32))).numpy()
            return out

        floor = "chunked forward of float32 rows under inference_mode"
        bench.compare("scoring", f"decision_function(numpy), {n:,} rows", floor_numpy,
                      lambda x=x: detector.decision_function(x), target=INFERENCE, repeats=repeats, floor_name=floor)
        bench.compare("scoring", f"decision_function(DataFrame), {n:,} rows",
                      lambda frame=frame: floor_numpy(frame[features].to_numpy()),
                      lambda frame=frame: detector.decision_function(frame), target=INFERENCE, repeats=repeats,
                      floor_name="frame[features].to_numpy() + the same chunked forward")
        table, out = scratch / f"rows-{n}.csv", scratch / "scores.csv"
        frame.to_csv(table, index=False)

        def floor_csv(table: Path = table, out: Path = out) -> None:
            scores = floor_numpy(pandas.read_csv(table)[features].to_numpy())
            flags = (scores > detector.threshold_).astype(np.int64)
            pandas.DataFrame({"score": scores, "is_anomaly": flags}).to_csv(out, index_label="row")

        bench.compare("scoring", f"aezoo score (score_csv), {n:,} rows", floor_csv,
                      lambda table=table, out=out: score_csv(detector, table, out), target=INFERENCE,
                      repeats=bench.repeats(5), floor_name="pandas read_csv + chunked forward + to_csv")
        table.unlink()


def quality(bench: Bench, scratch: Path, env: dict[str, str], *, creditcard: Path | None = None, **_: object) -> None:
    """ROC AUC and AP of fc-ae-fraud beside PyOD's AutoEncoder and IsolationForest, measured by
    ``aezoo.evaluate`` on the same held-out rows of the real table (all fitted on the same
    training rows); skipped where the real table cannot be had."""
    from aezoo.errors import DatasetUnavailableError

    os.environ.update({k: env[k] for k in ("AEZOO_HOME", "HF_HUB_OFFLINE", "AEZOO_MIRRORS")})
    start = time.perf_counter()
    try:
        measured = aezoo.evaluate("fc-ae-fraud", data=f"creditcard:{creditcard}" if creditcard else None, device="cpu")
    except DatasetUnavailableError as exc:
        bench.add("quality", "fc-ae-fraud against PyOD and IsolationForest", None, 0.0, target=None, floor_name="-",
                  note=f"skipped: {exc.what}")
        return
    note = f"aezoo.evaluate('fc-ae-fraud'), real table, time split; {time.perf_counter() - start:.0f} s"
    for key in ("roc_auc", "average_precision", "baseline_pyod_autoencoder_roc_auc",
                "baseline_pyod_autoencoder_average_precision", "baseline_isolation_forest_roc_auc",
                "baseline_isolation_forest_average_precision"):
        if key in measured:
            bench.add("quality", key, None, float(measured[key]), target=None, floor_name="-", note=note)


def tasks(bench: Bench, scratch: Path, env: dict[str, str], **_: object) -> None:
    os.environ.update({k: env[k] for k in ("AEZOO_HOME", "HF_HUB_OFFLINE", "AEZOO_MIRRORS")})
    dae = aezoo.load("fc-dae-mnist", device="cpu")
    vae = aezoo.load("conv-vae-faces", device="cpu")
    gan = aezoo.load("dcgan-faces", device="cpu")
    batches = (1, 64) if bench.quick else (1, 64, 4096)
    for b in batches:
        repeats = bench.repeats(31 if b == 1 else 9 if b == 64 else 3)
        digits = torch.rand(b, 1, 28, 28)
        faces = torch.rand(b, *vae.image_shape)
        codes = torch.randn(b, vae.latent_dim)
        noise = torch.randn(b, gan.nz, 1, 1)
        rows = [
            ("denoise", "fc-dae-mnist", lambda x=digits: dae(x), lambda x=digits: dae.denoise(x)),
            ("encode", "conv-vae-faces", lambda x=faces: vae.posterior(x)[0], lambda x=faces: vae.encode(x)),
            ("decode", "conv-vae-faces", lambda z=codes: torch.sigmoid(vae.decode_logits(z)),
             lambda z=codes: vae.decode(z)),
            ("sample", "dcgan-faces", lambda z=noise: gan.generator(z), lambda n=b: gan.sample(n, seed=0)),
        ]
        for task, name, raw, ours in rows:
            def floor(raw=raw) -> object:
                with torch.inference_mode():
                    return raw()

            bench.compare("tasks", f"{task} ({name}), batch {b}", floor, ours, target=INFERENCE, repeats=repeats,
                          floor_name="the module's forward under inference_mode")


def training(bench: Bench, scratch: Path, env: dict[str, str], **_: object) -> None:
    from benchmarks import train_throughput as tt

    device = torch.device("cpu")
    for name, count in tt.MODELS.items():
        spec = aezoo.info(name)
        channels, size = spec.preprocessing["channels"], spec.preprocessing["image_size"]
        # A quarter of train_throughput's images per epoch: on one CPU thread a DCGAN epoch of 1,024
        # faces takes a minute; the per-epoch costs the ratio measures are there at any size.
        images = torch.rand(count // 4, channels, size, size, generator=torch.Generator().manual_seed(0))
        plain, engine = [], []
        for repeat in range(2 if bench.quick else 3):
            def fresh(seed: int = repeat, spec=spec) -> torch.nn.Module:
                torch.manual_seed(seed)
                return aezoo.build(spec)

            plain.append(tt.run_plain(name, fresh(), images, 64, 2, spec.recipe.lr))
            engine.append(tt.run_engine(name, fresh, images, 64, 2, device))
        per_sample_plain = 1 / sorted(plain)[len(plain) // 2]
        per_sample_engine = 1 / sorted(engine)[len(engine) // 2]
        bench.add("training", f"{name}: seconds per training image, batch 64", per_sample_plain, per_sample_engine,
                  target=TRAINING, floor_name="plain hand-written loop (benchmarks/train_throughput.py)",
                  note="CPU time; engine epochs minus a 1-epoch run", repeats=len(plain))


def memory(bench: Bench, scratch: Path, env: dict[str, str], *, score_gb: float, **_: object) -> None:
    """Peak RSS and time of `aezoo score` (a subprocess each) on a 10k-row file and on bigger ones."""
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

    small = synthetic_creditcard_frame(10_000)
    bytes_per_row = len(small.to_csv(index=False).encode()) / len(small)
    target_rows = int(score_gb * 1e9 / bytes_per_row) if not bench.quick else 200_000
    sizes = [10_000, target_rows // 4, target_rows]
    measured = []
    for n in sizes:
        table = scratch / f"big-{n}.csv"
        _write_rows(table, small, n)
        rss, seconds = _score_subprocess(table, scratch / "out.csv", env)
        measured.append((n, rss, seconds))
        table.unlink()
        bench.add("memory", f"aezoo score, {n:,} rows ({n * bytes_per_row / 1e9:.2f} GB): peak RSS, MB", None,
                  rss / 1e6, target=None, floor_name="-", note=f"{seconds:.1f} s of CPU")
    base = measured[0][1]
    growth = measured[-1][1] / base
    bench.add("memory", f"peak RSS, {sizes[-1]:,} rows / 10,000 rows", None, growth, target=None, floor_name="-",
              note=f"target: at most 1.5 ({'met' if growth <= 1.5 else 'missed'})")
    rows = np.array([m[0] for m in measured], dtype=float)
    secs = np.array([m[2] for m in measured])
    slope, intercept = np.polyfit(rows, secs, 1)
    predicted = slope * rows + intercept
    r2 = 1 - ((secs - predicted) ** 2).sum() / ((secs - secs.mean()) ** 2).sum()
    bench.add("memory", f"time = {intercept:.2f} s + {slope * 1e6:.2f} s per million rows: R^2", None, float(r2),
              target=None, floor_name="-", note="linear fit over the three sizes")


def _write_rows(path: Path, frame, n: int) -> None:
    """A CSV of ``n`` rows made by repeating ``frame`` (the schema and value mix of real scoring input)."""
    body = frame.to_csv(index=False).split("\n", 1)[1]
    lines_per_copy = len(frame)
    with path.open("w") as out:
        out.write(",".join(frame.columns) + "\n")
        for _ in range(n // lines_per_copy):
            out.write(body)
        rest = n % lines_per_copy
        if rest:
            out.write("".join(body.splitlines(keepends=True)[:rest]))


def _score_subprocess(table: Path, output: Path, env: dict[str, str]) -> tuple[int, float]:
    """(peak RSS in bytes, CPU seconds) of one `aezoo score` process."""
    # Peak RSS from /proc (VmHWM, this process's own memory map): ru_maxrss can carry the parent's
    # peak across exec on Linux, which made every size read as the benchmark process's own peak.
    code = ("import resource, sys; from aezoo.cli import main\n"
            "try:\n    main(['score', 'fc-ae-fraud', sys.argv[1], '-o', sys.argv[2], '--overwrite'])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
            "r = resource.getrusage(resource.RUSAGE_SELF); print(int(hwm) * 1024, r.ru_utime + r.ru_stime)")
    done = subprocess.run([sys.executable, "-c", code, str(table), str(output)], check=True, capture_output=True,
                          text=True, env=env)
    rss, seconds = done.stdout.split()[-2:]
    return int(rss), float(seconds)


def gpu(bench: Bench, scratch: Path, env: dict[str, str], **_: object) -> None:
    """Scoring and denoising on a GPU, host-device copies included; skipped without one."""
    if not torch.cuda.is_available():
        bench.add("gpu", "all GPU rows", None, 0.0, target=None, floor_name="-", note="skipped: no GPU in this run")
        return
    os.environ.update({k: env[k] for k in ("AEZOO_HOME", "HF_HUB_OFFLINE", "AEZOO_MIRRORS")})

    def wall() -> float:
        torch.cuda.synchronize()
        return time.perf_counter()

    detector = aezoo.load("fc-ae-fraud", device="cuda")
    x = np.random.default_rng(0).normal(size=(1_000_000, detector.n_features))
    x[:, -1] = np.abs(x[:, -1]) * 50

    def floor_scores() -> np.ndarray:
        with torch.inference_mode():
            return detector(torch.from_numpy(x.astype(np.float32)).cuda()).double().cpu().numpy()

    bench.compare("gpu", "decision_function, 1,000,000 rows (copies included)", floor_scores,
                  lambda: detector.decision_function(x), target=0.5, repeats=bench.repeats(9), clock=wall,
                  floor_name="one forward of the whole float32 tensor, copies included")
    dae = aezoo.load("fc-dae-mnist", device="cuda")
    images = torch.rand(4096, 1, 28, 28)

    def floor_denoise() -> torch.Tensor:
        with torch.inference_mode():
            return dae(images.cuda()).cpu()

    bench.compare("gpu", "denoise, batch 4096 (copies included)", floor_denoise, lambda: dae.denoise(images),
                  target=INFERENCE, repeats=bench.repeats(15), clock=wall, floor_name="forward, copies included")

