"""torch.hub finds every installed model through the repository's hubconf.py. ``torch.hub.load``
with source="local" reads the same file torch.hub downloads from a repository; ``torch.hub.list``
and ``help`` only take GitHub repositories, so the listing is checked as they make it (the public
callables of hubconf)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

import aezoo

ROOT = Path(__file__).resolve().parent.parent


def test_hubconf_offers_every_installed_model():
    spec = importlib.util.spec_from_file_location("hubconf", ROOT / "hubconf.py")
    hubconf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hubconf)
    listed = {name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_")}
    assert {s.name.replace("-", "_") for s in aezoo.list_models()} <= listed
    assert {"fc_dae_mnist", "fc_ae_fraud", "conv_vae_faces", "conv_aae_faces", "dcgan_faces"} <= listed
    assert "denoising" in hubconf.fc_dae_mnist.__doc__.lower()
    assert hubconf.dependencies == ["torch", "aezoo"]


def test_torch_hub_load_is_aezoo_load(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))  # the shipped weights, offline
    model = torch.hub.load(str(ROOT), "fc_dae_mnist", source="local", device="cpu")
    reference = aezoo.load("fc-dae-mnist", device="cpu")
    assert model.aezoo.name == "fc-dae-mnist" and not model.training
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
