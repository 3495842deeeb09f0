"""One call fine-tunes every shipped model (parametrized over the registry): from the pretrained
weights, on the recipe's data, into a checkpoint folder that loads and says where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import aezoo
from aezoo.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [s.name for s in Registry().models() if s.weights and s.recipe and (ROOT / "weights" / s.name).is_dir()]


def _data(model):
    """The recipe's data set, except those that need files not shipped (CelebA, Fashion-MNIST, the real
    credit-card table) and would be slow for a test: aezoo's synthetic transactions with the same
    schema for the detector, 16 random images at the checkpoint's shape for the image models."""
    dataset = model.aezoo.spec.recipe.dataset
    if dataset == "creditcard":
        from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

        return synthetic_creditcard_frame(2000)
    if dataset not in ("celeba", "fashion-mnist"):
        return dataset
    size, channels = model.aezoo.preprocessing["image_size"], model.aezoo.preprocessing["channels"]
    return torch.rand(16, channels, size, size, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", SHIPPED)
def test_finetune_starts_from_pretrained_weights(name, monkeypatch, tmp_path):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    base = aezoo.load(name, device="cpu")
    tuned = aezoo.finetune(name, data=_data(base), epochs=1, output_dir=tmp_path / "tuned",
                           device="cpu", progress=False)
    assert tuned.aezoo.path == tmp_path / "tuned"
    assert tuned.aezoo.config == base.aezoo.config
    assert "fine-tuned from " + name in tuned.aezoo.card.training_data
    before = base.state_dict()
    changed = [k for k, v in tuned.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed, "fine-tuning left every weight unchanged"
    measured, carded = {m.name for m in tuned.aezoo.card.metrics}, {m.name for m in base.aezoo.card.metrics}
    assert measured <= carded and measured  # baselines need the recipe's own protocol (e.g. the time split)
