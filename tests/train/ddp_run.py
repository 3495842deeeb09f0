"""Run under torchrun by test_distributed.py: train tiny-ae data-parallel on the CPU (gloo)."""

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "distributions" / "aezoo-test-tiny" / "src"))

from aezoo import build  # noqa: E402
from aezoo.checkpoint import CheckpointConfig, save_tensors  # noqa: E402
from aezoo.registry import Registry, set_registry  # noqa: E402
from aezoo.train.engine import fit  # noqa: E402
from aezoo.train.steps.reconstruction import ReconstructionStep  # noqa: E402
from aezoo_test_tiny import plugin  # noqa: E402

output = Path(sys.argv[1])
dist.init_process_group("gloo")
registry = Registry(autoload=False)
registry.register(plugin, "tiny")
set_registry(registry)
spec = registry.get("tiny-ae")
torch.manual_seed(dist.get_rank())  # different start on each rank: DDP must broadcast rank 0's weights
model = build(spec)
data = torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
train, test = TensorDataset(data[:48], torch.zeros(48)), TensorDataset(data[48:], torch.zeros(16))
step = ReconstructionStep(model, spec.recipe, torch.device("cpu"))
fit(step, train, test, recipe=spec.recipe, output_dir=output, epochs=2, progress=False,
    checkpoint=CheckpointConfig(spec.name, dict(spec.config)))
save_tensors(model.state_dict(), output / f"rank{dist.get_rank()}.safetensors")
dist.destroy_process_group()
