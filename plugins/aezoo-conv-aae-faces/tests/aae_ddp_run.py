"""The three-phase AAE step data-parallel: test_distributed.py runs this file under torchrun (2 CPU
processes, gloo, batch 8 each) and calls ``run(OUTPUT, 16)`` itself for one process of the same
global batch. ``norm="none"``: BatchNorm would normalise each rank's batch on its own statistics,
which no data-parallel run matches exactly (the core's tests cover it)."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from aezoo_conv_aae_faces.model import build
from torch import nn
from torch.utils.data import TensorDataset

from aezoo.checkpoint import CheckpointConfig, save_tensors
from aezoo.spec import Recipe
from aezoo.training.distributed import rank_and_world
from aezoo.training.engine import fit
from aezoo.training.steps.aae import AAEStep

CONFIG = {"image_size": 16, "channels": 1, "latent_dim": 4, "widths": [8, 16], "disc_hidden": [16], "norm": "none"}


def start(rank: int) -> nn.Module:
    torch.manual_seed(rank)  # another start on each rank: the engine must broadcast rank 0's weights
    return build(**CONFIG)


def run(output: Path, batch_size: int) -> nn.Module:
    model = start(rank_and_world()[0])
    data = torch.rand(40, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    recipe = Recipe("aezoo.training.steps.aae:AAEStep", "in-memory", epochs=2, batch_size=batch_size, lr=1e-3,
                    options={"flip": True, "shift": 1})
    step = AAEStep(model, recipe, torch.device("cpu"))
    fit(step, TensorDataset(data[:32], torch.zeros(32)), TensorDataset(data[32:], torch.zeros(8)), recipe=recipe,
        output_dir=output, progress=False, checkpoint=CheckpointConfig("conv-aae-faces", CONFIG))
    return model


if __name__ == "__main__":
    root = Path(sys.argv[1])
    torch.distributed.init_process_group("gloo")
    trained = run(root / "run", 8)
    save_tensors(trained.state_dict(), root / f"rank{torch.distributed.get_rank()}.safetensors")
    torch.distributed.destroy_process_group()
