"""dcgan-faces: one builder for the shipped CelebA shape (64x64 RGB) and the small grayscale one, GAN
training steps, the generative metrics and baselines, exact save/load, the sampling API, fine-tuning in
one call, and the shipped weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from aezoo_dcgan_faces.model import build
from aezoo_dcgan_faces.plugin import CONFIG, PREPROCESSING, SMALL_CONFIG, SPEC
from torch import nn

import aezoo
from aezoo.checkpoint import CheckpointConfig, save_checkpoint
from aezoo.training.steps.gan import GANStep, mean_pairwise_distance

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "weights" / "dcgan-faces"
SMALL_PREPROCESSING = {"image_size": 32, "channels": 1, "range": [0.0, 1.0]}
GAN_METRICS = {"d_accuracy", "d_real_accuracy", "d_fake_accuracy", "sample_diversity", "real_diversity"}
SAMPLE_METRICS = {"swd", "nearest_train_distance", "min_nearest_train_distance", "heldout_nearest_train_distance"}
BASELINE_METRICS = {"ppca_swd", "real_swd"}


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny_faces(n: int = 10, size: int = 32, channels: int = 1, seed: int = 0) -> torch.Tensor:
    """Smooth blobs on a dark background, in [0, 1]: enough structure for a few GAN steps."""
    generator = torch.Generator().manual_seed(seed)
    axis = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    centres = torch.rand(n, 2, generator=generator) * 0.6 - 0.3
    blobs = torch.exp(-((xx - centres[:, :1, None]) ** 2 + (yy - centres[:, 1:, None]) ** 2) / 0.2)
    tint = torch.linspace(1.0, 0.7, channels).view(1, channels, 1, 1)  # RGB images that are not grey
    return (blobs.unsqueeze(1) * tint).clamp(0, 1)


def test_one_builder_makes_the_shipped_and_the_small_shapes() -> None:
    shipped, small = build(**CONFIG), build(**SMALL_CONFIG)
    # pytorch/examples' DCGAN for 64x64x3 with nz 100, ngf = ndf = 64, exactly
    assert count(shipped.generator) == 3_576_704 and count(shipped.discriminator) == 2_765_568
    assert count(shipped) == SPEC.params
    for model, (channels, size) in ((shipped, (3, 64)), (small, (1, 32))):
        stages = sum(isinstance(m, nn.ConvTranspose2d) for m in model.generator.modules())
        assert stages == {64: 5, 32: 4}[size]  # one more up-sampling stage per doubling of image_size
        assert sum(isinstance(m, nn.Conv2d) for m in model.discriminator.modules()) == stages
        images = model.sample(2, seed=0)
        assert images.shape == (2, channels, size, size)
        assert model.discriminate(images).shape == (2,)
    with pytest.raises(ValueError, match="power of two"):
        build(image_size=48)


def test_the_spec_is_the_celeba_shape() -> None:
    info = aezoo.info(SPEC.name)
    assert info.config == CONFIG and info.preprocessing == PREPROCESSING and info.params == SPEC.params
    assert (CONFIG["image_size"], CONFIG["channels"]) == (PREPROCESSING["image_size"], PREPROCESSING["channels"])
    assert (CONFIG["image_size"], CONFIG["channels"]) == (64, 3)
    assert info.recipe.dataset == "celeba" and info.recipe.options["baselines"] is True
    # every metric evaluate() reports has its protocol (the shared table also holds the reconstruction baselines)
    assert set(GANStep.metric_protocols) >= GAN_METRICS | SAMPLE_METRICS | BASELINE_METRICS


def test_sample_is_deterministic_in_range_and_per_image() -> None:
    torch.manual_seed(0)
    model = build(**SMALL_CONFIG)
    first, again, other = model.sample(6, seed=3), model.sample(6, seed=3), model.sample(6, seed=4)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert float(first.min()) >= 0.0 and float(first.max()) <= 1.0
    # eval-mode BatchNorm: an image depends on its own latent code only, not on the batch it is drawn in
    torch.testing.assert_close(model.generate(model.latent(6, seed=3)[:2]), first[:2], rtol=0, atol=1e-6)
    assert model.training  # sampling does not leave the module in another mode
    with pytest.raises(ValueError, match="Latent codes"):
        model.generate(torch.zeros(2, 7))


def gan_step(model: nn.Module, **options: object) -> GANStep:
    recipe = dataclasses.replace(SPEC.recipe, options={**SPEC.recipe.options, "eval_samples": 16, **options})
    return GANStep(model, recipe, torch.device("cpu"))


def test_training_steps_update_generator_and_discriminator(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build(**SMALL_CONFIG).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    step = gan_step(model, label_smoothing=0.1)
    assert set(step.optimizers) == {"generator", "discriminator"}
    assert step.optimizers["generator"].param_groups[0]["betas"] == (0.5, 0.999)
    data = torch.utils.data.TensorDataset(tiny_faces(8), torch.zeros(8, dtype=torch.long))
    for _ in range(2):
        losses = step.train_batch(next(iter(torch.utils.data.DataLoader(data, batch_size=8))))
        assert set(losses) == {"loss_d", "loss_g", "d_real", "d_fake"}
        assert all(torch.isfinite(v) and v.dim() == 0 and not v.requires_grad for v in losses.values())
    for part in ("generator", "discriminator"):
        weights = [k for k, v in model.state_dict().items() if k.startswith(part) and k.endswith("weight")]
        assert weights and all(not torch.equal(model.state_dict()[k], before[k]) for k in weights), part

    step.prepare(data)
    metrics = step.evaluate(torch.utils.data.DataLoader(data, batch_size=4))
    assert set(metrics) == GAN_METRICS  # nothing to compare with before fit_references
    assert 0.0 <= metrics["d_accuracy"] <= 1.0 and metrics["sample_diversity"] > 0.0
    assert step.write_artifacts(tmp_path, data) == ["samples.png"] and (tmp_path / "samples.png").stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["samples.png"]  # no held-out images


@pytest.mark.parametrize("baselines", [True, False])
def test_fit_references_adds_the_sample_and_baseline_metrics(baselines: bool) -> None:
    torch.manual_seed(0)
    model = build(**SMALL_CONFIG)
    step = gan_step(model, baselines=baselines)
    train_images, test_images = tiny_faces(24, seed=1), tiny_faces(8, seed=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    step.fit_references(torch.utils.data.TensorDataset(train_images, torch.zeros(24)))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # never changes the model
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(test_images, torch.zeros(8)), batch_size=5)
    metrics = step.evaluate(loader)
    assert set(metrics) == GAN_METRICS | SAMPLE_METRICS | (BASELINE_METRICS if baselines else set())
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert metrics["swd"] >= 0
    # an untrained generator makes noise, far from every training face; held-out faces sit close to them
    assert 0 < metrics["min_nearest_train_distance"] <= metrics["nearest_train_distance"]
    assert metrics["heldout_nearest_train_distance"] < metrics["nearest_train_distance"]
    if baselines:
        # real training faces are a better sampler of these faces than an untrained generator
        assert 0 <= metrics["real_swd"] < metrics["swd"] and metrics["ppca_swd"] >= 0
    assert step.evaluate(loader) == metrics  # seeded: the same model measures the same


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = build(**SMALL_CONFIG)
    step = gan_step(model)
    step.train_batch(tiny_faces(4))  # running statistics that differ from their initial values
    save_checkpoint(tmp_path / "ckpt", model, CheckpointConfig(SPEC.name, dict(SMALL_CONFIG), SMALL_PREPROCESSING))
    loaded = aezoo.load(tmp_path / "ckpt", device="cpu")
    assert loaded.state_dict().keys() == model.state_dict().keys()
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    assert torch.equal(loaded.sample(5, seed=7), model.sample(5, seed=7))


def test_finetune_continues_adversarial_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    base = aezoo.load("dcgan-faces", device="cpu")
    tuned = aezoo.finetune("dcgan-faces", data=tiny_faces(10, size=64, channels=3), epochs=1,
                           output_dir=tmp_path / "tuned",
                           device="cpu", progress=False, options={"eval_samples": 16})
    assert tuned.aezoo.path == tmp_path / "tuned" and (tmp_path / "tuned" / "samples.png").is_file()
    assert {m.name for m in tuned.aezoo.card.metrics} == GAN_METRICS | SAMPLE_METRICS | BASELINE_METRICS
    assert sorted(p.name for p in (tmp_path / "tuned").glob("*.png")) == ["samples.png"]
    for part in ("generator", "discriminator"):
        changed = [k for k, v in tuned.state_dict().items()
                   if k.startswith(part) and k.endswith("weight") and not torch.equal(v, base.state_dict()[k])]
        assert changed, f"fine-tuning left the {part} unchanged"


def test_the_shipped_shape_trains_from_scratch_with_the_recipe_on_synthetic_faces(tmp_path: Path) -> None:
    """The recipe (baselines on) with synthetic 64x64 RGB images instead of its CelebA, narrow to stay fast."""
    config = {**CONFIG, "ngf": 8, "ndf": 8}
    tuned = aezoo.train("dcgan-faces", config=config, data=tiny_faces(10, size=64, channels=3), epochs=1,
                        output_dir=tmp_path, device="cpu", progress=False, options={"eval_samples": 8})
    assert tuned.aezoo.config == config and tuned.aezoo.preprocessing == PREPROCESSING
    assert {m.name for m in tuned.aezoo.card.metrics} == GAN_METRICS | SAMPLE_METRICS | BASELINE_METRICS
    assert tuned.sample(2, seed=0).shape == (2, 3, 64, 64)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["samples.png"]


def test_the_small_shape_trains_with_a_config_override(tmp_path: Path) -> None:
    tuned = aezoo.train("dcgan-faces", config=SMALL_CONFIG, data=tiny_faces(10), epochs=1, output_dir=tmp_path,
                        device="cpu", progress=False, options={"eval_samples": 8, "baselines": False})
    assert tuned.aezoo.config == SMALL_CONFIG and tuned.aezoo.preprocessing == SMALL_PREPROCESSING
    assert {m.name for m in tuned.aezoo.card.metrics} == GAN_METRICS | SAMPLE_METRICS
    assert tuned.sample(2, seed=0).shape == (2, 1, 32, 32)


def test_shipped_weights_load_by_name_and_sample_varied_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    model = aezoo.load("dcgan-faces", device="cpu")
    assert model.aezoo.path == SHIPPED
    assert model.aezoo.config == CONFIG and model.aezoo.preprocessing == PREPROCESSING
    assert count(model) == SPEC.params
    samples = model.sample(64, seed=0)
    assert samples.shape == (64, 3, 64, 64) and torch.equal(samples, model.sample(64, seed=0))
    # Not collapsed: real CelebA faces differ by about 0.3 RMS on average; a collapsed generator scores ~0.
    assert mean_pairwise_distance(samples) > 0.15
    # Not blank or saturated: faces have mid-grey content and contrast.
    assert 0.2 < float(samples.mean()) < 0.8 and float(samples.std(dim=(1, 2, 3)).mean()) > 0.1
    card = {m.name: m.value for m in model.aezoo.card.metrics}
    assert set(card) == GAN_METRICS | SAMPLE_METRICS | BASELINE_METRICS
    assert card["real_swd"] <= card["swd"]  # real training faces are the floor
    assert card["min_nearest_train_distance"] > 0.01  # no sample is a copy of a training face
