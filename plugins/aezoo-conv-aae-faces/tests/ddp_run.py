"""Run under torchrun by test_distributed.py: the three-phase AAE step data-parallel on the CPU (gloo)."""

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from aezoo_conv_aae_faces.model import build
from torch.utils.data import TensorDataset

from aezoo.checkpoint import CheckpointConfig, save_tensors
from aezoo.spec import Recipe
from aezoo.train.engine import fit
from aezoo.train.steps.aae import AAEStep

output = Path(sys.argv[1])
dist.init_process_group("gloo")
torch.manual_seed(dist.get_rank())  # different start on each rank: the engine must broadcast rank 0's weights
config = {"image_size": 16, "channels": 1, "latent_dim": 4, "widths": [8, 16], "disc_hidden": [16], "norm": "batch"}
model = build(**config)
data = torch.rand(40, 1, 16, 16, generator=torch.Generator().manual_seed(0))
recipe = Recipe("aezoo.train.steps.aae:AAEStep", "in-memory", epochs=2, batch_size=8, lr=1e-3,
                options={"flip": True, "shift": 1})
step = AAEStep(model, recipe, torch.device("cpu"))
fit(step, TensorDataset(data[:32], torch.zeros(32)), TensorDataset(data[32:], torch.zeros(8)), recipe=recipe,
    output_dir=output, progress=False, checkpoint=CheckpointConfig("conv-aae-faces", config))
# BatchNorm running statistics stay per process (each sees its own shard); parameters must agree.
save_tensors({k: v for k, v in model.named_parameters()}, output / f"rank{dist.get_rank()}.safetensors")
dist.destroy_process_group()
