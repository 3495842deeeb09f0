"""Training throughput of aezoo's engine against a plain hand-written loop, on the same model and batch.

Run by hand (results go in docs/benchmarks.md):

    python benchmarks/train_throughput.py [--device cpu|cuda] [--repeats 3] [--json out.json]

For each model (the shipped config), both sides train from the same initial weights on the same
in-memory random images for the same epochs and batches:
- plain: a seeded permutation per epoch, slices of one tensor on the device, the family's loss
  written out by hand (DAE: masking noise + MSE; VAE: BCE + KL; GAN: a discriminator and a
  generator step), Adam; nothing else;
- engine: ``aezoo.training.engine.fit`` with the family's step, as ``aezoo train`` runs it, state
  saved after every epoch; the once-per-run work (references, the final evaluation on 64 held-out
  images, checkpoint, sample grid) is cancelled out by subtracting a 1-epoch run.
Samples per second = images trained / wall seconds; the ratio is engine / plain (target >= 0.9).
Sides are interleaved (plain, engine, plain, engine, ...) and the median of the repeats is kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

import aezoo
from aezoo.api import build, import_object
from aezoo.checkpoint import CheckpointConfig
from aezoo.training.engine import fit
from aezoo.training.steps.base import mask_pixels

MODELS = {"fc-dae-mnist": 4096, "conv-vae-faces": 1024, "dcgan-faces": 1024}  # training images per epoch (CPU)


def plain_step(name: str, model: nn.Module, optimizers: list[torch.optim.Optimizer], images: torch.Tensor) -> None:
    bce = nn.functional.binary_cross_entropy_with_logits
    if name == "fc-dae-mnist":
        loss = nn.functional.mse_loss(model(mask_pixels(images, 0.5)), images)
        optimizers[0].zero_grad(set_to_none=True)
        loss.backward()
        optimizers[0].step()
    elif name == "conv-vae-faces":
        logits, mu, logvar = model(images)[:3]
        rec = nn.functional.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        loss = (rec + kl).mean()
        optimizers[0].zero_grad(set_to_none=True)
        loss.backward()
        optimizers[0].step()
    else:
        real = images * 2 - 1
        n = real.shape[0]
        z = torch.randn(n, model.nz, 1, 1).to(real.device)
        ones, zeros = torch.ones(n, device=real.device), torch.zeros(n, device=real.device)
        fake = model.generator(z)
        loss_d = bce(model.discriminator(real), ones) + bce(model.discriminator(fake.detach()), zeros)
        optimizers[0].zero_grad(set_to_none=True)
        loss_d.backward()
        optimizers[0].step()
        loss_g = bce(model.discriminator(fake), ones)
        optimizers[1].zero_grad(set_to_none=True)
        loss_g.backward()
        optimizers[1].step()


def run_plain(name: str, model: nn.Module, images: torch.Tensor, batch: int, epochs: int, lr: float) -> float:
    if name == "dcgan-faces":
        optimizers = [torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
                      torch.optim.Adam(model.generator.parameters(), lr=lr, betas=(0.5, 0.999))]
    else:
        optimizers = [torch.optim.Adam(model.parameters(), lr=lr)]
    model.train()
    _sync(images.device)
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(epoch)).to(images.device)
        for i in range(0, len(images), batch):
            plain_step(name, model, optimizers, images[order[i : i + batch]])
    _sync(images.device)
    return len(images) * epochs / (time.perf_counter() - start)


def run_engine(name: str, build_model, images: torch.Tensor, batch: int, epochs: int, device: torch.device) -> float:
    """Samples/s of the engine's epochs: a 1-epoch run subtracted from a (1 + epochs)-epoch run, so the
    once-per-run work (references, final evaluation, checkpoint, sample grid) cancels out and the
    per-epoch work (batching, losses, state saved after every epoch) stays in."""
    short = _engine_seconds(name, build_model(), images, batch, 1, device)
    long = _engine_seconds(name, build_model(), images, batch, 1 + epochs, device)
    return len(images) * epochs / (long - short)


def _engine_seconds(name: str, model: nn.Module, images: torch.Tensor, batch: int, epochs: int,
                    device: torch.device) -> float:
    spec = aezoo.info(name)
    options = {**spec.recipe.options, "eval_every": epochs, "baselines": False, "flip": False, "shift": 0,
               "eval_samples": 64}
    recipe = dataclasses.replace(spec.recipe, batch_size=batch, epochs=epochs, options=options)
    step = import_object(recipe.step)(model, recipe, device)
    labels = torch.zeros(len(images), dtype=torch.long)
    train, test = TensorDataset(images.cpu(), labels), TensorDataset(images[:64].cpu(), labels[:64])
    with tempfile.TemporaryDirectory() as out:
        _sync(device)
        start = time.perf_counter()
        fit(step, train, test, recipe=recipe, output_dir=Path(out), progress=False,
            checkpoint=CheckpointConfig(name, dict(spec.config), dict(spec.preprocessing)))
        _sync(device)
        return time.perf_counter() - start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--scale", type=int, default=1, help="multiply the images per epoch (e.g. 8 on a GPU)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    rows = []
    for name, count in MODELS.items():
        spec = aezoo.info(name)
        channels, size = spec.preprocessing["channels"], spec.preprocessing["image_size"]
        images = torch.rand(count * args.scale, channels, size, size, generator=torch.Generator().manual_seed(0))
        images = images.to(device)
        rates: dict[str, list[float]] = {"plain": [], "engine": []}
        for repeat in range(args.repeats):
            def fresh(seed: int = repeat, spec=spec) -> nn.Module:
                torch.manual_seed(seed)
                return build(spec, dict(spec.config)).to(device)

            rates["plain"].append(run_plain(name, fresh(), images, args.batch, args.epochs, spec.recipe.lr))
            rates["engine"].append(run_engine(name, fresh, images, args.batch, args.epochs, device))
        plain, engine = statistics.median(rates["plain"]), statistics.median(rates["engine"])
        rows.append({"model": name, "batch": args.batch, "images_per_epoch": len(images), "epochs": args.epochs,
                     "plain_samples_per_s": round(plain, 1), "engine_samples_per_s": round(engine, 1),
                     "ratio": round(engine / plain, 3)})
        print(f"{name:16s} plain {plain:10.1f}/s  engine {engine:10.1f}/s  ratio {engine / plain:.3f}", flush=True)
    result = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": platform.platform(), "repeats": args.repeats, "rows": rows,
              "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
