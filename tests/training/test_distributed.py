"""Data-parallel training: two CPU processes (torchrun, gloo) against one process of the same global batch.

One torchrun launch trains every case of ddp_run.py (batch 8 on each of 2 ranks); the test process
trains the same cases with batch 16 on one process and compares the weights.

TOLERANCE: the two runs add the same float32 numbers in another order (two half-batch mean
gradients averaged, against one mean over the whole batch), which Adam's normalised steps carry
on. Measured after 8 steps: at most 1.5e-7 (denoiser) and 1.6e-8 (DCGAN without BatchNorm) while
training moved the weights by 1.6e-2 and 2.1e-2. 1e-5 leaves a margin of about 70x over the float
noise and stays 1000x below the weight change; drawing the GAN's latents on each rank instead of for
the global batch puts the runs 2.7e-2 apart (measured), far outside it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file
from torch.utils.data.distributed import DistributedSampler

import aezoo
from aezoo.cli import main
from aezoo.training.distributed import shard
from aezoo.training.state import load_state, read_settings

sys.path.insert(0, str(Path(__file__).parent))
import ddp_run

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case of ddp_run.py trained by 2 processes under torchrun, in one launch."""
    root = tmp_path_factory.mktemp("ddp")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(Path(ddp_run.__file__)), str(root)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return root


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


@pytest.mark.parametrize("case", ["denoise", "gan"])
def test_two_processes_train_what_one_process_of_the_global_batch_trains(case, two_ranks, tmp_path):
    one = ddp_run.run(case, tmp_path / case, 16).state_dict()
    rank0, rank1 = (load_file(two_ranks / f"{case}-rank{rank}.safetensors") for rank in (0, 1))
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # averaged gradients: identical replicas
    assert _max_difference(rank0, one) < TOLERANCE
    start = ddp_run._model(case, 0)[0].state_dict()
    assert _max_difference(start, one) > 100 * TOLERANCE  # training moved the weights far beyond it
    assert _max_difference(load_file(two_ranks / case / "model.safetensors"), rank0) == 0  # rank 0 wrote it


def test_batchnorm_statistics_stay_per_rank_and_rank_zero_writes_its_own(two_ranks):
    rank0 = load_file(two_ranks / "gan-batchnorm-rank0.safetensors")
    rank1 = load_file(two_ranks / "gan-batchnorm-rank1.safetensors")
    running = [k for k in rank0 if k.endswith("running_mean")]
    assert running and all(not torch.equal(rank0[k], rank1[k]) for k in running)  # each rank saw its shard
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0 if "running" not in k and "num_batches" not in k)
    checkpoint = load_file(two_ranks / "gan-batchnorm" / "model.safetensors")
    state = load_state(two_ranks / "gan-batchnorm" / "training-state")
    for key in rank0:  # the checkpoint and the training state are rank 0's: it alone wrote
        assert torch.equal(checkpoint[key], rank0[key]) and torch.equal(state["model"][key], rank0[key]), key
    states = sorted(p.name for p in (two_ranks / "gan-batchnorm" / "training-state").iterdir())
    assert states == ["epoch-0002", "latest"]
    assert state["run"]["settings"]["processes"] == 2


def test_the_vae_trains_identical_replicas_with_its_own_noise_on_each_rank(two_ranks):
    rank0, rank1 = load_file(two_ranks / "vae-rank0.safetensors"), load_file(two_ranks / "vae-rank1.safetensors")
    parameters = {k for k in rank0 if "running" not in k and "num_batches" not in k}
    assert all(torch.equal(rank0[k], rank1[k]) for k in parameters)
    drawn = [load_file(two_ranks / f"randomness-rank{rank}.safetensors") for rank in (0, 1)]
    assert not torch.equal(drawn[0]["inside"], drawn[1]["inside"])  # a model's own noise: per rank
    assert torch.equal(drawn[0]["after"], drawn[1]["after"])  # the shared generator stays in step


@pytest.mark.parametrize(("count", "world"), [(10, 2), (10, 3), (7, 4), (2, 3)])
def test_a_shard_is_padded_and_interleaved_as_distributed_sampler_does(count, world):
    for rank in range(world):
        expected = list(DistributedSampler(range(count), num_replicas=world, rank=rank, shuffle=False))
        assert shard(torch.arange(count), rank, world).tolist() == expected


def _images(folder: Path, count: int) -> Path:
    from aezoo.images import save_image

    folder.mkdir()
    for i in range(count):
        save_image(torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(i)), folder / f"{i}.png")
    return folder


def test_train_nproc_launches_torchrun_and_rank_zero_reports(tmp_path):
    data, output = _images(tmp_path / "images", 20), tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "fc-dae-mnist", "--data", str(data), "-o", str(output), "--epochs", "1",
                                       "--batch-size", "4", "--device", "cpu", "--config",
                                       '{"image_size": 8, "hidden": 16}', "--nproc", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(output)  # rank 0's report, once
    assert read_settings(output / "training-state")["settings"]["processes"] == 2
    assert "2 steps of batch 4 on each of 2 processes (16 samples)" in (output / "README.md").read_text()
    assert aezoo.load(output, device="cpu").aezoo.config["hidden"] == 16


def test_a_failing_rank_is_named_with_its_exit_code_and_last_lines(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = CliRunner().invoke(main, ["train", "fc-dae-mnist", "--data", str(missing), "-o", str(tmp_path / "run"),
                                       "--device", "cpu", "--nproc", "2"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Training on 2 processes failed: rank " in result.output and "exited with code 1" in result.output
    assert str(missing) in result.output  # the rank's own one-line error
    assert not (tmp_path / "run").exists()


def test_nproc_below_one_is_a_usage_error():
    result = CliRunner().invoke(main, ["train", "fc-dae-mnist", "--nproc", "0"])
    assert result.exit_code == 2 and "--nproc" in result.output
