"""The engine runs data-parallel under torchrun unchanged (two CPU processes, gloo backend)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

import aezoo

SCRIPT = Path(__file__).with_name("ddp_run.py")


def test_two_ranks_train_in_step_and_only_rank_zero_writes(tmp_path, tiny_registry):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(SCRIPT), str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rank0, rank1 = load_file(out / "rank0.safetensors"), load_file(out / "rank1.safetensors")
    for key in rank0:  # gradients were averaged: both replicas hold the same weights
        assert torch.equal(rank0[key], rank1[key]), key
    model = aezoo.load(out, device="cpu")  # written once, by rank 0, and loadable
    for key, value in model.state_dict().items():
        assert torch.equal(value, rank0[key])
    assert sorted(p.name for p in (out / "training-state").iterdir()) == ["epoch-0002", "latest"]
