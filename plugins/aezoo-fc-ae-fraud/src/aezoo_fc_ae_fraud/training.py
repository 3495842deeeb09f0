"""Training a fc-ae-fraud network in memory, through aezoo's one training engine.

Both detector APIs fit this way: the network's own PyOD-style ``TabularAE.fit`` and the scikit-learn
facade ``FraudDetector.fit``. It runs the loop ``aezoo train`` runs, with the family step
``aezoo.training.steps.anomaly:AnomalyStep`` (z-score statistics in ``prepare``, the threshold in
``calibrate``), so a detector fitted in a notebook is the same as one trained from the shell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .plugin import NAME, RECIPE, preprocessing_for

if TYPE_CHECKING:
    from aezoo.training.engine import FitResult

    from .model import TabularAE


def fit_network(network: TabularAE, rows: torch.Tensor, labels: torch.Tensor | None = None, *,
                epochs: int | None = None, output_dir: str | Path | None = None, verbose: bool = False,
                **recipe: Any) -> FitResult:
    """Train ``network`` on ``rows`` (N, F) from its current weights with the plugin's recipe, then
    fit its statistics and ``threshold_``. Rows labelled 1 in ``labels`` are left out of training and
    of the statistics. Recipe settings (``lr``, ``batch_size``, ``seed``, ``options``) can be
    overridden; the checkpoint goes to ``output_dir`` when given, else to a scratch folder that is
    removed. ``verbose`` shows the engine's progress."""
    from aezoo.checkpoint import CheckpointConfig
    from aezoo.data.tabular import TableDataset
    from aezoo.training.engine import fit as run_engine
    from aezoo.training.steps.anomaly import AnomalyStep

    names = network.feature_names or tuple(f"x{i}" for i in range(network.n_features))
    given = labels if labels is not None else torch.zeros(len(rows), dtype=torch.long)
    data = TableDataset(rows, given, names, network.label, labelled=labels is not None)
    options = {"artifacts": False, **RECIPE.options, "baselines": False, **recipe.pop("options", {})}
    run = dataclasses.replace(RECIPE, options=options, **recipe)
    if epochs is not None:
        run = dataclasses.replace(run, epochs=epochs)
    device = next(network.parameters()).device
    step = AnomalyStep(network, run, device)
    checkpoint = CheckpointConfig(NAME, dict(network.config), preprocessing_for(network.config))
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stderr(io.StringIO())
    with tempfile.TemporaryDirectory(prefix="aezoo-fit-", dir=_scratch_root()) as scratch, quiet:
        folder = Path(output_dir) if output_dir is not None else Path(scratch)
        result = run_engine(step, data, data, recipe=run, output_dir=folder, checkpoint=checkpoint,
                            resume=False, progress=verbose and None)
    network.eval()
    return result


def _scratch_root() -> str | None:
    """Where fit keeps the engine's per-epoch state it throws away: memory when the system offers it."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
