"""Redraw the card images of shipped checkpoint folders from their weights, as training draws them.

    python -m tests.card_images weights/fc-dae-mnist weights/fc-dae-fashion-mnist
    python -m tests.card_images weights/fc-ae-fraud --data creditcard:PATH/creditcard.csv
    make release        # the images are pinned files: re-pin after redrawing

Each folder's model is loaded, its recipe's step is made, and the step's ``write_artifacts`` draws
the card images from the held-out split of the recipe's data set (or ``--data``) into the folder:
the same function on the same weights and split as at the end of the run that made them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import aezoo
from aezoo.api import import_object
from aezoo.data.resolve import resolve_data


def redraw(folder: Path, data: str | None = None) -> list[str]:
    """Draw ``folder``'s card images again; returns their names."""
    model = aezoo.load(folder, device="cpu")
    spec, recipe = model.aezoo.spec, model.aezoo.spec.recipe
    splits = resolve_data(data or recipe.dataset, spec, dict(model.aezoo.preprocessing))
    step = import_object(recipe.step)(model, recipe, torch.device("cpu"))
    return step.write_artifacts(folder, splits.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--data", help="the data set to draw from (default: the recipe's)")
    arguments = parser.parse_args()
    for folder in arguments.folders:
        print(folder, redraw(folder, arguments.data))


if __name__ == "__main__":
    main()
