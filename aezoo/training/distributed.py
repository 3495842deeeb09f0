"""Data-parallel training on torch.distributed: what the engine, the steps and ``aezoo train --nproc`` share.

Every rank holds the plain model (no DistributedDataParallel wrapper). The engine starts every
rank from rank 0's parameters and buffers (``broadcast_module``), gives each rank an interleaved
shard of the one seeded permutation a single process would use (``shard``), and each optimizer
step averages the gradients of that optimizer's parameters over the ranks before stepping
(``average_gradients``, called by ``TrainingStep.optimize``), so N processes with batch b follow
one process with batch N*b.

Why not DDP: DDP hooks the wrapped module's ``forward`` and averages gradients in buckets while
``backward`` still runs, overlapping communication with computation. The family steps call
submodules directly (a GAN's generator and discriminator, an AAE's encoder and latent
discriminator) and step two or three optimizers per batch, which a DDP forward hook never sees:
it would average at the wrong time or report unused parameters. Averaging once per optimizer step
costs one coalesced all_reduce after ``backward`` (nothing overlapped) and a copy of the gradients
into and out of one flat buffer. For the models aezoo trains (up to a few million parameters, one
to a few optimizers per batch) that is one message of a few MB per step; for models with hundreds
of millions of parameters over slow links DDP's overlap would hide more of it.

This module imports torch; ``aezoo train --nproc`` imports it only when it launches.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TextIO

import torch

from ..errors import TrainingError

TAIL_LINES = 8  # lines of the failing rank's stderr shown when a launch fails


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) unless torch.distributed is initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def shard(order: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """This rank's part of ``order``: ``order[rank::world]`` after padding it (with its own first
    items, as DistributedSampler does) to a multiple of ``world``, so every rank takes as many
    steps with batches of the same size, and rank r's j-th item is item ``j * world + r`` of the order.
    With batch b per rank, the ranks' k-th batches together are the k-th batch of size world*b."""
    if world == 1:
        return order
    total = -(-len(order) // world) * world
    if total > len(order):
        repeats = -(-total // len(order))
        order = order.repeat(repeats)[:total]
    return order[rank::world]


def broadcast_module(module: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (one broadcast per dtype)."""
    _, world = rank_and_world()
    if world == 1:
        return
    with torch.no_grad():
        tensors = list(module.parameters()) + list(module.buffers())
        for group in _by_dtype(tensors).values():
            flat = torch.cat([t.reshape(-1) for t in group])
            torch.distributed.broadcast(flat, src=0)
            for tensor, part in zip(group, flat.split([t.numel() for t in group]), strict=True):
                tensor.copy_(part.view_as(tensor))


def average_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Average the gradients of ``optimizer``'s parameters over the ranks: one all_reduce of one flat
    buffer per dtype (one for a float32 model). A parameter without a gradient on a rank counts as
    zeros there, so every rank sends the same sizes; one that has none on every rank keeps none (the
    optimizer skips it, as one process would). The sum is divided by the world size: with equal
    batches per rank that is the gradient of the mean loss over the global batch."""
    _, world = rank_and_world()
    if world == 1:
        return
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for group in _by_dtype(params).values():
        parts = [p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), dtype=p.dtype, device=p.device)
                 for p in group]
        had = torch.tensor([p.grad is not None for p in group], dtype=group[0].dtype, device=group[0].device)
        flat = torch.cat([*parts, had])
        torch.distributed.all_reduce(flat)
        sizes = [p.numel() for p in group]
        *summed, counts = flat.split([*sizes, len(group)])
        for param, total, count in zip(group, summed, counts.tolist(), strict=True):
            if count == 0:
                param.grad = None
            elif param.grad is not None:
                param.grad.copy_(total.view_as(param)).div_(world)
            else:
                param.grad = total.view_as(param).div(world)


def agree(value: int, what: str, hint: str) -> None:
    """Raise ``TrainingError`` unless every rank holds the same ``value`` (two tiny all_reduces)."""
    _, world = rank_and_world()
    if world == 1:
        return
    device = _collective_device()
    low, high = torch.tensor([value], device=device), torch.tensor([value], device=device)
    torch.distributed.all_reduce(low, op=torch.distributed.ReduceOp.MIN)
    torch.distributed.all_reduce(high, op=torch.distributed.ReduceOp.MAX)
    if int(low) != int(high):
        raise TrainingError(f"The processes disagree on {what}: from {int(low)} to {int(high)}.", hint)


def barrier() -> None:
    """Wait for every rank (e.g. until rank 0 has written the checkpoint the others then load)."""
    _, world = rank_and_world()
    if world > 1:
        device = _collective_device()
        torch.distributed.barrier(device_ids=[device.index or 0] if device.type == "cuda" else None)


def _collective_device() -> torch.device:
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _by_dtype(tensors: Iterable[torch.Tensor]) -> dict[tuple[torch.dtype, torch.device], list[torch.Tensor]]:
    groups: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
    for tensor in tensors:
        groups.setdefault((tensor.dtype, tensor.device), []).append(tensor)
    return groups


# ---- processes: a torchrun worker, and the launcher behind ``aezoo train --nproc`` ------------------------------

def under_torchrun() -> bool:
    """Whether this process was started by torchrun (which sets these variables for each worker)."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR"))


@contextmanager
def worker(device: str) -> Iterator[str]:
    """In a torchrun worker: initialise the process group (nccl on CUDA, gloo otherwise), yield the
    device this rank trains on (``cuda`` or ``auto`` on a GPU machine become ``cuda:LOCAL_RANK``), and
    destroy the group at the end, however the run ends. Outside torchrun, or when the caller already
    initialised torch.distributed: yields ``device`` and changes nothing."""
    if not under_torchrun() or (torch.distributed.is_available() and torch.distributed.is_initialized()):
        yield device
        return
    from ..api import pick_device

    chosen = pick_device(device)
    if chosen.type == "cuda":
        if chosen.index is None:
            chosen = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        if chosen.index >= torch.cuda.device_count():
            raise TrainingError(
                f"Rank {os.environ['RANK']} should train on {chosen}, but this machine has "
                f"{torch.cuda.device_count()} GPU(s).", "Start at most one process per GPU (--nproc).")
        torch.cuda.set_device(chosen)
    torch.distributed.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
    try:
        yield str(chosen)
    finally:
        torch.distributed.destroy_process_group()


def launch(nproc: int, args: list[str]) -> None:
    """Run ``python -m aezoo ARGS`` on ``nproc`` local processes under torchrun (``--standalone``).

    Rank 0's stdout and stderr are passed through as they come (the checkpoint folder, the epoch
    lines); the other ranks' are kept, and torchrun's own messages too. A failure raises
    ``TrainingError`` with the exit code and the last lines of the first rank that failed."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
               "--tee", "3", "-m", "aezoo", *args]
    tails: dict[int, deque[str]] = {}
    launcher: list[str] = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    readers = [threading.Thread(target=_relay, args=(stream, target, tails, launcher), daemon=True)
               for stream, target in ((process.stdout, sys.stdout), (process.stderr, sys.stderr))]
    for reader in readers:
        reader.start()
    try:
        code = process.wait()
    except KeyboardInterrupt:  # torchrun got the interrupt too and stops its workers
        process.wait()
        raise
    for reader in readers:
        reader.join()
    if code != 0:
        raise _launch_error(nproc, code, tails, launcher)


_TEE = re.compile(r"^\[[^\]]*?(\d+)\]:(.*)$")  # torchrun --tee: "[default1]:line" (role, local rank)


def _relay(stream: IO[str], target: TextIO, tails: dict[int, deque[str]], launcher: list[str]) -> None:
    for line in stream:
        tagged = _TEE.match(line.rstrip("\n"))
        if tagged is None:
            launcher.append(line.rstrip("\n"))
            continue
        rank, text = int(tagged.group(1)), tagged.group(2)
        if target is sys.stderr:
            tails.setdefault(rank, deque(maxlen=TAIL_LINES)).append(text)
        if rank == 0 and not text.startswith("Error: "):  # a rank's error line comes back in the launch's error
            print(text, file=target, flush=True)


def _launch_error(nproc: int, code: int, tails: dict[int, deque[str]], launcher: list[str]) -> TrainingError:
    summary = "\n".join(launcher)
    cause = summary.split("Root Cause", 1)[-1] if "Root Cause" in summary else ""
    rank = re.search(r"local_rank\s*:?\s*(\d+)", cause)
    exit_code = re.search(r"exitcode\s*:\s*(-?\d+)", cause)
    if rank is None or exit_code is None:
        last = " | ".join(line for line in launcher[-TAIL_LINES:] if line.strip())
        return TrainingError(f"torchrun could not run {nproc} processes (exit code {code}): {last}",
                             "Check that torch.distributed works here, or train on one process (--nproc 1).")
    failed = int(rank.group(1))
    lines = " | ".join(line for line in tails.get(failed, ()) if line.strip()) or "(no output)"
    return TrainingError(
        f"Training on {nproc} processes failed: rank {failed} exited with code {exit_code.group(1)}: {lines}",
        "Fix what that rank reports (run with --nproc 1 to see it on one process; AEZOO_DEBUG=1 shows tracebacks).")
