"""conv-vae-faces: one builder for both shapes, the VAE API, training through the engine, and the
shipped weights on held-out LFW faces."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from aezoo_conv_vae_faces.model import build
from aezoo_conv_vae_faces.plugin import CELEBA_CONFIG, CELEBA_PREPROCESSING, CONFIG

import aezoo
from aezoo.checkpoint import CheckpointConfig, save_checkpoint
from aezoo.data import load_dataset
from aezoo.train import finetune, train
from aezoo.train.steps.vae import VAEStep

ROOT = Path(__file__).resolve().parents[3]
NAME = "conv-vae-faces"


def face_like(n: int, size: int = 32, channels: int = 1, seed: int = 0) -> torch.Tensor:
    """Bright ellipses (a head) with two dark dots (eyes) on a darker background, jittered."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    faces = []
    for _ in range(n):
        cx, cy = (torch.rand(2, generator=g) - 0.5) * 0.3
        head = ((x - cx) / 0.55) ** 2 + ((y - cy) / 0.75) ** 2 < 1
        eyes = (((x - cx).abs() - 0.22) ** 2 + (y - cy + 0.2) ** 2) < 0.01
        image = 0.15 + 0.6 * head.float() - 0.5 * eyes.float() + 0.05 * torch.rand(size, size, generator=g)
        faces.append(image.clamp(0, 1).expand(channels, -1, -1))
    return torch.stack(faces)


def encoder_convs(model: torch.nn.Module) -> list[torch.nn.Conv2d]:
    return [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]


@pytest.mark.parametrize("config", [CONFIG, CELEBA_CONFIG], ids=["shipped-32x32x1", "celeba-64x64x3"])
def test_one_builder_makes_both_shapes(config):
    model = build(**config).eval()
    size, channels, latent = config["image_size"], config["channels"], config["latent_dim"]
    assert len(encoder_convs(model)) == {32: 3, 64: 4}[size]  # stride-2 stages down to 4x4
    assert all(conv.stride == (2, 2) for conv in encoder_convs(model))
    images = face_like(3, size, channels)
    z = model.encode(images)
    assert z.shape == (3, latent)
    decoded = model.decode(z)
    assert decoded.shape == (3, channels, size, size)
    assert model.reconstruct(images).shape == images.shape
    samples = model.sample(5, seed=0)
    assert samples.shape == (5, channels, size, size)
    assert 0 <= float(samples.min()) and float(samples.max()) <= 1
    logits, mu, logvar, _ = model.train()(images)
    assert logits.shape == images.shape and mu.shape == logvar.shape == (3, latent)


def test_spec_params_and_celeba_params():
    assert sum(p.numel() for p in build(**CONFIG).parameters()) == aezoo.info(NAME).params
    assert sum(p.numel() for p in build(**CELEBA_CONFIG).parameters()) == 2_973_731  # stated in the card


@pytest.mark.parametrize("config, message", [
    ({**CONFIG, "widths": [32, 64]}, "needs 3 stride-2 stages"),
    ({**CONFIG, "image_size": 48}, "power of two"),
])
def test_config_that_cannot_reach_4x4_is_refused(config, message):
    with pytest.raises(ValueError, match=message):
        build(**config)


def test_api_refuses_wrong_inputs():
    model = build(**CONFIG)
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\)"):
        model.encode(torch.rand(2, 3, 32, 32))
    with pytest.raises(TypeError, match="float"):
        model.reconstruct(torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(N, 32\)"):
        model.decode(torch.zeros(2, 16))
    with pytest.raises(ValueError, match="n >= 0"):
        model.sample(-1)
    assert model.reconstruct(torch.rand(2, 32, 32)).shape == (2, 32, 32)  # grayscale without a channel axis


def test_sample_is_deterministic_for_a_seed_and_leaves_the_model_as_it_was():
    model = build(**CONFIG)
    model(face_like(8))  # train mode: BatchNorm statistics move away from their initial values
    running = {k: v.clone() for k, v in model.state_dict().items()}
    first = model.sample(6, seed=7)
    assert model.training
    assert torch.equal(first, model.sample(6, seed=7))
    assert torch.equal(first, model.eval().sample(6, seed=7))
    assert not torch.equal(first, model.sample(6, seed=8))
    assert all(torch.equal(v, running[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("config, preprocessing", [
    (CONFIG, aezoo.info(NAME).preprocessing), (CELEBA_CONFIG, CELEBA_PREPROCESSING),
], ids=["shipped", "celeba"])
def test_save_load_round_trip_is_exact(tmp_path, config, preprocessing):
    torch.manual_seed(0)
    model = build(**config)
    model(face_like(4, config["image_size"], config["channels"]))  # move the BatchNorm statistics
    save_checkpoint(tmp_path / "ckpt", model, CheckpointConfig(NAME, dict(config), dict(preprocessing)))
    loaded = aezoo.load(tmp_path / "ckpt", device="cpu")
    assert loaded.aezoo.config == config
    original = model.state_dict()
    assert loaded.state_dict().keys() == original.keys()
    assert all(torch.equal(t, original[k]) for k, t in loaded.state_dict().items())
    images = face_like(3, config["image_size"], config["channels"], seed=1)
    assert torch.equal(loaded.reconstruct(images), model.eval().reconstruct(images))
    assert torch.equal(loaded.sample(3, seed=0), model.sample(3, seed=0))


def test_step_lowers_the_negative_elbo_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build(**CONFIG)
    recipe = dataclasses.replace(aezoo.info(NAME).recipe, options={"flip": False, "shift": 0})
    step = VAEStep(model, recipe, torch.device("cpu"))
    batch = (face_like(4), torch.zeros(4))
    losses = [float(step.train_batch(batch)["loss"]) for _ in range(12)]
    assert losses[-1] < 0.8 * losses[0]


def test_kl_warmup_is_a_fraction_of_the_run():
    step = VAEStep(build(**CONFIG), dataclasses.replace(aezoo.info(NAME).recipe, options={"kl_warmup": 0.25}),
                   torch.device("cpu"))
    step.start_epoch(0, 100)
    assert step.kl_weight == pytest.approx(0.04)
    step.start_epoch(24, 100)
    assert step.kl_weight == 1.0
    step.start_epoch(0, 2)
    assert step.kl_weight == 1.0


def test_a_few_steps_through_the_engine_write_a_loadable_checkpoint(tmp_path):
    model = train(NAME, data=face_like(20), epochs=2, batch_size=8, output_dir=tmp_path / "run", progress=False)
    metrics = {m.name: m for m in model.aezoo.card.metrics}
    assert set(metrics) == {"mse", "neg_elbo", "kl", "mean_face_mse"}
    assert all(torch.isfinite(torch.tensor(m.value)) for m in metrics.values())
    assert metrics["neg_elbo"].unit == "nats" and "Bernoulli" in metrics["neg_elbo"].protocol
    assert (tmp_path / "run" / "reconstructions_and_samples.png").is_file()
    assert model.sample(2, seed=0).shape == (2, 1, 32, 32)


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return aezoo.load(NAME, device="cpu")


def test_finetune_starts_from_the_shipped_weights(shipped, tmp_path):
    tuned = finetune(NAME, data=face_like(10), epochs=1, output_dir=tmp_path / "tuned", progress=False)
    assert tuned.aezoo.path == tmp_path / "tuned"
    assert "fine-tuned from conv-vae-faces" in tuned.aezoo.card.training_data
    changed = [k for k, v in tuned.state_dict().items() if not torch.equal(v, shipped.state_dict()[k])]
    assert changed  # it trained
    assert tuned.reconstruct(face_like(2)).shape == (2, 1, 32, 32)


def test_shipped_weights_reproduce_the_card_and_beat_the_mean_face(shipped):
    """Re-measure the card's numbers on the 20 held-out LFW faces, and beat the mean-face baseline."""
    card = {m.name: m.value for m in shipped.aezoo.card.metrics}
    splits = load_dataset("lfw-faces", image_size=32, channels=1)
    step = VAEStep(shipped, shipped.aezoo.spec.recipe, torch.device("cpu"))
    step.calibrate(splits.train)
    measured = step.evaluate(torch.utils.data.DataLoader(splits.test, batch_size=256))
    for name in ("mse", "neg_elbo", "kl", "mean_face_mse"):
        assert measured[name] == pytest.approx(card[name], rel=1e-3), name
    faces = torch.stack([splits.test[i][0] for i in range(len(splits.test))])
    mean_face = torch.stack([splits.train[i][0] for i in range(len(splits.train))]).mean(0)
    mse = float(((shipped.reconstruct(faces) - faces) ** 2).mean())
    baseline = float(((mean_face - faces) ** 2).mean())
    assert mse == pytest.approx(card["mse"], rel=1e-3)
    assert mse < 0.5 * baseline  # measured: 0.01218 against 0.03653, a third of the mean-face error
