"""The one held-out rule (aezoo.data.split): index % 5 == 4, the same items whichever loader splits."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from aezoo.data.faces import split_by_index
from aezoo.data.resolve import split_in_memory
from aezoo.data.split import held_out_mask, split_indices, split_text
from aezoo.data.tabular import table_splits


def test_mask_and_indices_hold_out_every_fifth_item():
    for n in (0, 1, 4, 5, 9, 23):
        train, test = split_indices(n)
        mask = held_out_mask(n)
        assert test == [i for i in range(n) if i % 5 == 4] == torch.nonzero(mask).flatten().tolist()
        assert train == torch.nonzero(~mask).flatten().tolist() and len(train) + len(test) == n


def test_every_loader_holds_out_the_same_items():
    items = torch.arange(23, dtype=torch.float32)
    expected_test = [4.0, 9.0, 14.0, 19.0]
    images = items.view(23, 1, 1, 1)
    by_index = split_by_index(images, "images", "23 one-pixel images")
    table = table_splits(items.view(23, 1), None, features=["x"], name="table", description="23 rows")
    tensor = split_in_memory(images, name="tensor")
    dataset = split_in_memory(TensorDataset(images), name="dataset")
    for splits in (by_index, table, tensor):
        assert splits.test.tensors[0].flatten().tolist() == expected_test
        assert len(splits.train) == 19
    assert [float(dataset.test[i][0]) for i in range(len(dataset.test))] == expected_test
    assert by_index.split == tensor.split.replace("items", "images")


def test_split_text_names_the_rule():
    assert split_text("4,000 digits", "1,000 digits", "100 per class") == (
        "train: 4,000 digits (index % 5 != 4); test: 1,000 digits (index % 5 == 4, 100 per class)")
