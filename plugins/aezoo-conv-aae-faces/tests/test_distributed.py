"""The AAE step under torchrun: its three phases average their own gradients over the processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

SCRIPT = Path(__file__).with_name("ddp_run.py")


def test_two_ranks_keep_identical_parameters_through_all_three_phases(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(SCRIPT), str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rank0, rank1 = load_file(out / "rank0.safetensors"), load_file(out / "rank1.safetensors")
    assert any(k.startswith("discriminator.") for k in rank0)
    for key in rank0:  # each rank trained on its own shard: only averaged gradients keep them equal
        assert torch.equal(rank0[key], rank1[key]), key
    assert sorted(p.name for p in (out / "training-state").iterdir()) == ["epoch-0002", "latest"]
