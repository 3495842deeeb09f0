"""The AAE step under torchrun: its three phases average their gradients through the shared
``optimize`` and draw their prior samples for the global batch, so two processes of batch 8 train
what one process of batch 16 trains.

Tolerance as in the core's tests/training/test_distributed.py: float32 sums in another order; measured
here 2.8e-7 after 4 steps of three phases, against a weight change of 8.2e-3 from the start.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).parent))
import aae_ddp_run as ddp_run

TOLERANCE = 1e-5


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def test_two_ranks_train_what_one_process_of_the_global_batch_trains(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(Path(ddp_run.__file__)), str(tmp_path)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rank0, rank1 = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert any(k.startswith("discriminator.") for k in rank0)
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # each rank trained on its shard: averaged
    one = ddp_run.run(tmp_path / "one", 16).state_dict()
    assert _max_difference(rank0, one) < TOLERANCE
    assert _max_difference(ddp_run.start(0).state_dict(), one) > 100 * TOLERANCE
    assert _max_difference(load_file(tmp_path / "run" / "model.safetensors"), rank0) == 0  # rank 0 wrote it
    assert sorted(p.name for p in (tmp_path / "run" / "training-state").iterdir()) == ["epoch-0002", "latest"]
