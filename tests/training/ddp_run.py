"""Training runs that test_distributed.py compares: each case once under torchrun (``python -m
torch.distributed.run --nproc-per-node 2 ddp_run.py OUTPUT``: gloo, every case with batch 8 per rank)
and once in the test's own process (``run(case, OUTPUT, 16)``: one process, the same global batch).

Every rank builds its model from another seed, so only the engine's broadcast of rank 0's weights
lets the runs agree; every case augments (flips, shifts), so the augmentation draws are compared too.
Last, each rank draws inside and after ``own_randomness`` and saves both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from aezoo.checkpoint import CheckpointConfig, save_tensors
from aezoo.spec import Recipe
from aezoo.training.distributed import rank_and_world
from aezoo.training.engine import fit
from aezoo.training.steps import own_randomness

DENOISER = {"image_size": 16, "channels": 1, "hidden": 16}
DCGAN = {"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8}
VAE = {"image_size": 16, "channels": 1, "latent_dim": 4, "widths": [8, 16]}
EPOCHS, TRAIN, TEST = 2, 64, 16  # 64 / 16 = 4 global batches per epoch: every rank's batches are full
CASES = ("denoise", "gan", "gan-batchnorm", "vae")


def _without_batchnorm(module: nn.Module) -> nn.Module:
    """BatchNorm normalises each rank's batch with that batch's statistics, so no data-parallel run
    (DDP's neither) matches one process of the global batch with it; "gan" drops it to compare the
    rest exactly, "gan-batchnorm" keeps it."""
    for name, child in module.named_children():
        setattr(module, name, nn.Identity() if isinstance(child, nn.BatchNorm2d) else _without_batchnorm(child))
    return module


def _model(case: str, rank: int) -> tuple[nn.Module, str, str, dict]:
    torch.manual_seed(rank)  # another start on each rank
    if case == "denoise":
        from aezoo_fc_dae_mnist.model import build

        return build(**DENOISER), "aezoo.training.steps:DenoisingStep", "fc-dae-mnist", DENOISER
    if case == "vae":
        from aezoo_conv_vae_faces.model import build

        return build(**VAE), "aezoo.training.steps.vae:VAEStep", "conv-vae-faces", VAE
    from aezoo_dcgan_faces.model import build

    model = _without_batchnorm(build(**DCGAN)) if case == "gan" else build(**DCGAN)
    return model, "aezoo.training.steps.gan:GANStep", "dcgan-faces", DCGAN


def run(case: str, output: Path, batch_size: int) -> nn.Module:
    """Train ``case`` into ``output`` (rank 0 writes it) with ``batch_size`` per process; returns the model."""
    from aezoo.api import import_object

    rank, _ = rank_and_world()
    model, step_name, name, config = _model(case, rank)
    images = torch.rand(TRAIN + TEST, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    options = {"flip": True, "shift": 1, "eval_samples": 16}
    recipe = Recipe(step_name, "in-memory", epochs=EPOCHS, batch_size=batch_size, lr=2e-3, seed=3, options=options)
    step = import_object(step_name)(model, recipe, torch.device("cpu"))
    fit(step, TensorDataset(images[:TRAIN], torch.zeros(TRAIN)), TensorDataset(images[TRAIN:], torch.zeros(TEST)),
        recipe=recipe, output_dir=output, progress=False, checkpoint=CheckpointConfig(name, config))
    return model


if __name__ == "__main__":
    root = Path(sys.argv[1])
    torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank()
    for case in CASES:
        trained = run(case, root / case, 8)
        save_tensors(trained.state_dict(), root / f"{case}-rank{rank}.safetensors")
    with own_randomness(torch.device("cpu")):
        inside = torch.randn(4)
    save_tensors({"inside": inside, "after": torch.randn(4)}, root / f"randomness-rank{rank}.safetensors")
    torch.distributed.destroy_process_group()
