"""The held-out split of every aezoo data set without an official one: index % 5 == 4 is held out.

One rule, in one place, so that a card's "test = index % 5 == 4" means the same items whichever
loader made the split (image folders, LFW, mnist-5k, tables, in-memory arrays and Datasets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

TEST_EVERY = 5  # every fifth item (index % 5 == 4) is held out


def held_out_mask(n: int) -> torch.Tensor:
    """A bool tensor (n,): True for the held-out items (index % 5 == 4), False for training."""
    import torch

    return torch.arange(n) % TEST_EVERY == TEST_EVERY - 1


def split_indices(n: int) -> tuple[list[int], list[int]]:
    """(training indices, held-out indices) of ``n`` items, each in index order."""
    train = [i for i in range(n) if i % TEST_EVERY != TEST_EVERY - 1]
    test = list(range(TEST_EVERY - 1, n, TEST_EVERY))
    return train, test


def split_text(train: str, test: str, test_note: str = "") -> str:
    """How the split was made, for the card: ``train`` and ``test`` say what each part holds,
    ``test_note`` anything more about the held-out part (e.g. "100 per class")."""
    rule = f"index % {TEST_EVERY} {{}} {TEST_EVERY - 1}"
    note = f", {test_note}" if test_note else ""
    return f"train: {train} ({rule.format('!=')}); test: {test} ({rule.format('==')}{note})"
