"""conv-vae-faces: one builder for the shipped CelebA shape (64x64 RGB) and the small grayscale one,
the VAE API, training through the engine with the recipe's baselines, the generative metrics, and
the shipped weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from aezoo_conv_vae_faces.model import build
from aezoo_conv_vae_faces.plugin import CONFIG, PREPROCESSING, SMALL_CONFIG, SPEC
from torch.utils.data import DataLoader, TensorDataset

import aezoo
from aezoo.checkpoint import CheckpointConfig, save_checkpoint
from aezoo.training import finetune, train
from aezoo.training.steps.vae import VAEStep

ROOT = Path(__file__).resolve().parents[3]
NAME = "conv-vae-faces"
SMALL_PREPROCESSING = {"image_size": 32, "channels": 1, "range": [0.0, 1.0]}
# The shipped 64x64 RGB shape, narrow so that a few training steps take a fraction of a second.
NARROW = {**CONFIG, "latent_dim": 8, "widths": [8, 8, 16, 16]}
BASE_METRICS = {"mse", "neg_elbo", "kl"}
SAMPLE_METRICS = {"swd", "nearest_train_distance", "min_nearest_train_distance", "heldout_nearest_train_distance"}
BASELINE_METRICS = {"ppca_swd", "real_swd", "pca_mse"}


def face_like(n: int, size: int = 32, channels: int = 1, seed: int = 0) -> torch.Tensor:
    """Bright ellipses (a head) with two dark dots (eyes) on a darker background, jittered; the
    channels get different brightness so RGB images are not grey."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    tint = torch.linspace(1.0, 0.7, channels).view(channels, 1, 1)
    faces = []
    for _ in range(n):
        cx, cy = (torch.rand(2, generator=g) - 0.5) * 0.3
        head = ((x - cx) / 0.55) ** 2 + ((y - cy) / 0.75) ** 2 < 1
        eyes = (((x - cx).abs() - 0.22) ** 2 + (y - cy + 0.2) ** 2) < 0.01
        image = 0.15 + 0.6 * head.float() - 0.5 * eyes.float() + 0.05 * torch.rand(size, size, generator=g)
        faces.append((image * tint).clamp(0, 1))
    return torch.stack(faces)


def labelled(images: torch.Tensor) -> TensorDataset:
    return TensorDataset(images, torch.zeros(len(images), dtype=torch.long))


def encoder_convs(model: torch.nn.Module) -> list[torch.nn.Conv2d]:
    return [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]


def recipe(**options) -> aezoo.Recipe:
    return dataclasses.replace(SPEC.recipe, options={**SPEC.recipe.options, **options})


# -- architecture and API --------------------------------------------------------------------------
@pytest.mark.parametrize("config", [CONFIG, SMALL_CONFIG], ids=["shipped-64x64x3", "small-32x32x1"])
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


def test_the_spec_is_the_celeba_shape_and_states_its_parameter_count():
    info = aezoo.info(NAME)
    assert info.config == CONFIG and info.preprocessing == PREPROCESSING
    assert (CONFIG["image_size"], CONFIG["channels"]) == (PREPROCESSING["image_size"], PREPROCESSING["channels"])
    assert (CONFIG["image_size"], CONFIG["channels"]) == (64, 3)
    assert sum(p.numel() for p in build(**CONFIG).parameters()) == info.params == 2_973_731
    assert info.recipe.dataset == "celeba" and info.recipe.options["baselines"] is True
    assert set(VAEStep.metric_protocols) == BASE_METRICS | SAMPLE_METRICS | BASELINE_METRICS | {"mean_face_mse"}


@pytest.mark.parametrize("config, message", [
    ({**SMALL_CONFIG, "widths": [32, 64]}, "needs 3 stride-2 stages"),
    ({**CONFIG, "widths": [32, 64, 128]}, "needs 4 stride-2 stages"),
    ({**SMALL_CONFIG, "image_size": 48}, "power of two"),
])
def test_config_that_cannot_reach_4x4_is_refused(config, message):
    with pytest.raises(ValueError, match=message):
        build(**config)


def test_api_refuses_wrong_inputs():
    model = build(**SMALL_CONFIG)
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\)"):
        model.encode(torch.rand(2, 3, 32, 32))
    with pytest.raises(TypeError, match="float"):
        model.reconstruct(torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(N, 32\)"):
        model.decode(torch.zeros(2, 16))
    with pytest.raises(ValueError, match="n >= 0"):
        model.sample(-1)
    assert model.reconstruct(torch.rand(2, 32, 32)).shape == (2, 32, 32)  # grayscale without a channel axis
    with pytest.raises(ValueError, match=r"\(N, 3, 64, 64\)"):
        build(**NARROW).encode(torch.rand(2, 1, 64, 64))  # the shipped shape wants RGB


def test_sample_is_deterministic_for_a_seed_and_leaves_the_model_as_it_was():
    model = build(**SMALL_CONFIG)
    model(face_like(8))  # train mode: BatchNorm statistics move away from their initial values
    running = {k: v.clone() for k, v in model.state_dict().items()}
    first = model.sample(6, seed=7)
    assert model.training
    assert torch.equal(first, model.sample(6, seed=7))
    assert torch.equal(first, model.eval().sample(6, seed=7))
    assert not torch.equal(first, model.sample(6, seed=8))
    assert all(torch.equal(v, running[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("config, preprocessing", [
    (CONFIG, PREPROCESSING), (SMALL_CONFIG, SMALL_PREPROCESSING),
], ids=["shipped", "small"])
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


# -- the step ----------------------------------------------------------------------------------------
def test_step_lowers_the_negative_elbo_on_a_fixed_batch():
    torch.manual_seed(0)
    step = VAEStep(build(**SMALL_CONFIG), recipe(flip=False, shift=0), torch.device("cpu"))
    batch = (face_like(4), torch.zeros(4))
    losses = [float(step.train_batch(batch)["loss"]) for _ in range(12)]
    assert losses[-1] < 0.8 * losses[0]


def test_kl_warmup_is_a_fraction_of_the_run():
    step = VAEStep(build(**SMALL_CONFIG), dataclasses.replace(SPEC.recipe, options={"kl_warmup": 0.25}),
                   torch.device("cpu"))
    step.start_epoch(0, 100)
    assert step.kl_weight == pytest.approx(0.04)
    step.start_epoch(24, 100)
    assert step.kl_weight == 1.0
    step.start_epoch(0, 2)
    assert step.kl_weight == 1.0


@pytest.mark.parametrize("baselines", [True, False])
def test_fit_references_adds_the_sample_and_baseline_metrics(baselines):
    torch.manual_seed(0)
    step = VAEStep(build(**SMALL_CONFIG), recipe(baselines=baselines), torch.device("cpu"))
    train_images, test_images = face_like(24, seed=1), face_like(8, seed=2)
    test_loader = DataLoader(labelled(test_images), batch_size=5)
    assert set(step.evaluate(test_loader)) == BASE_METRICS  # nothing to compare with before fit_references
    before = {k: v.clone() for k, v in step.model.state_dict().items()}
    step.fit_references(labelled(train_images))
    assert all(torch.equal(v, before[k]) for k, v in step.model.state_dict().items())  # never changes the model
    metrics = step.evaluate(test_loader)
    expected = BASE_METRICS | SAMPLE_METRICS | {"mean_face_mse"} | (BASELINE_METRICS if baselines else set())
    assert set(metrics) == expected
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert metrics["swd"] >= 0
    assert 0 <= metrics["min_nearest_train_distance"] <= metrics["nearest_train_distance"]
    assert metrics["heldout_nearest_train_distance"] > 0  # held-out faces are new faces
    mean_face = train_images.mean(0)
    assert metrics["mean_face_mse"] == pytest.approx(float(((test_images - mean_face) ** 2).mean()), rel=1e-5)
    if baselines:
        # 23 PCA components on 24 similar faces reconstruct held-out ones better than the mean face does
        assert metrics["pca_mse"] < metrics["mean_face_mse"]
        assert 0 <= metrics["real_swd"] and 0 <= metrics["ppca_swd"]
    assert step.evaluate(test_loader) == metrics  # seeded: the same model measures the same


def test_write_artifacts_writes_only_samples(tmp_path):
    step = VAEStep(build(**SMALL_CONFIG), recipe(), torch.device("cpu"))
    assert step.write_artifacts(tmp_path, labelled(face_like(8))) == ["samples.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["samples.png"]  # no held-out images or reconstructions
    assert (tmp_path / "samples.png").stat().st_size > 0


# -- training through the engine --------------------------------------------------------------------
def test_a_few_steps_through_the_engine_at_the_shipped_shape(tmp_path):
    """The recipe (baselines on) with synthetic 64x64 RGB faces instead of its CelebA, narrow widths."""
    model = train(NAME, data=face_like(20, 64, 3), config=NARROW, epochs=2, batch_size=8,
                  output_dir=tmp_path / "run", progress=False)
    assert model.aezoo.config == NARROW and model.aezoo.preprocessing == PREPROCESSING
    metrics = {m.name: m for m in model.aezoo.card.metrics}
    assert set(metrics) == set(VAEStep.metric_protocols)
    assert all(torch.isfinite(torch.tensor(m.value)) for m in metrics.values())
    assert metrics["neg_elbo"].unit == "nats" and "Bernoulli" in metrics["neg_elbo"].protocol
    assert metrics["swd"].value >= 0 and "Wasserstein" in metrics["swd"].protocol
    assert (tmp_path / "run" / "samples.png").is_file()
    assert sorted(p.name for p in (tmp_path / "run").glob("*.png")) == ["samples.png"]
    assert model.sample(2, seed=0).shape == (2, 3, 64, 64)


def test_the_small_shape_trains_with_a_config_override(tmp_path):
    model = train(NAME, data=face_like(20), config=SMALL_CONFIG, epochs=1, batch_size=8,
                  output_dir=tmp_path / "small", progress=False, options={"baselines": False})
    assert model.aezoo.config == SMALL_CONFIG and model.aezoo.preprocessing == SMALL_PREPROCESSING
    assert {m.name for m in model.aezoo.card.metrics} == set(VAEStep.metric_protocols) - BASELINE_METRICS
    assert model.reconstruct(face_like(2)).shape == (2, 1, 32, 32)


# -- shipped weights ---------------------------------------------------------------------------------
@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return aezoo.load(NAME, device="cpu")


def test_shipped_weights_are_the_celeba_shape_with_a_card_of_every_metric(shipped):
    assert shipped.aezoo.config == CONFIG and shipped.aezoo.preprocessing == PREPROCESSING
    assert sum(p.numel() for p in shipped.parameters()) == SPEC.params
    samples = shipped.sample(8, seed=0)
    assert samples.shape == (8, 3, 64, 64) and torch.equal(samples, shipped.sample(8, seed=0))
    assert 0 <= float(samples.min()) and float(samples.max()) <= 1
    card = {m.name: m.value for m in shipped.aezoo.card.metrics}
    assert set(card) == set(VAEStep.metric_protocols)
    assert card["mse"] < card["mean_face_mse"]  # it learned more than the average face
    assert card["real_swd"] <= card["swd"]  # real training faces are the floor


def test_shipped_weights_evaluate_on_other_data_with_references(shipped, monkeypatch):
    """aezoo.evaluate fits the references on the data's training split: every card metric comes back."""
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    measured = aezoo.evaluate(NAME, data=face_like(20, 64, 3), device="cpu")
    assert set(measured) == {m.name for m in shipped.aezoo.card.metrics}
    assert all(torch.isfinite(torch.tensor(v)) for v in measured.values())


def test_finetune_starts_from_the_shipped_weights(shipped, tmp_path):
    tuned = finetune(NAME, data=face_like(10, 64, 3), epochs=1, output_dir=tmp_path / "tuned", progress=False)
    assert tuned.aezoo.path == tmp_path / "tuned"
    assert "fine-tuned from conv-vae-faces" in tuned.aezoo.card.training_data
    changed = [k for k, v in tuned.state_dict().items() if not torch.equal(v.cpu(), shipped.state_dict()[k].cpu())]
    assert changed  # it trained
    assert tuned.reconstruct(face_like(2, 64, 3)).shape == (2, 3, 64, 64)
