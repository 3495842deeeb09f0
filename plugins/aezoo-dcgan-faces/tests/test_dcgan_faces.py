"""dcgan-faces: one builder for the CelebA and the shipped shapes, GAN training steps, exact save/load,
the sampling API, fine-tuning in one call, and the shipped weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from aezoo_dcgan_faces.model import build
from aezoo_dcgan_faces.plugin import CELEBA_CONFIG, SPEC
from torch import nn

import aezoo
from aezoo.checkpoint import CheckpointConfig, save_checkpoint
from aezoo.train.steps.gan import GANStep, mean_pairwise_distance

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "weights" / "dcgan-faces"


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny_faces(n: int = 10, size: int = 32, channels: int = 1, seed: int = 0) -> torch.Tensor:
    """Smooth blobs on a dark background, in [0, 1]: enough structure for a few GAN steps."""
    generator = torch.Generator().manual_seed(seed)
    axis = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    centres = torch.rand(n, 2, generator=generator) * 0.6 - 0.3
    blobs = torch.exp(-((xx - centres[:, :1, None]) ** 2 + (yy - centres[:, 1:, None]) ** 2) / 0.2)
    return blobs.unsqueeze(1).expand(-1, channels, -1, -1).contiguous().clamp(0, 1)


def test_one_builder_makes_the_celeba_and_the_shipped_shapes() -> None:
    celeba, shipped = build(**CELEBA_CONFIG), build(**SPEC.config)
    # pytorch/examples' DCGAN for 64x64x3 with nz 100, ngf = ndf = 64, exactly
    assert count(celeba.generator) == 3_576_704 and count(celeba.discriminator) == 2_765_568
    assert count(shipped) == SPEC.params
    for model, (channels, size) in ((celeba, (3, 64)), (shipped, (1, 32))):
        stages = sum(isinstance(m, nn.ConvTranspose2d) for m in model.generator.modules())
        assert stages == {64: 5, 32: 4}[size]  # one more up-sampling stage per doubling of image_size
        assert sum(isinstance(m, nn.Conv2d) for m in model.discriminator.modules()) == stages
        images = model.sample(2, seed=0)
        assert images.shape == (2, channels, size, size)
        assert model.discriminate(images).shape == (2,)
    with pytest.raises(ValueError, match="power of two"):
        build(image_size=48)


def test_sample_is_deterministic_in_range_and_per_image() -> None:
    torch.manual_seed(0)
    model = build(**SPEC.config)
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
    model = build(**SPEC.config).train()
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
    assert set(metrics) == set(GANStep.metric_protocols)
    assert 0.0 <= metrics["d_accuracy"] <= 1.0 and metrics["sample_diversity"] > 0.0
    assert step.write_artifacts(tmp_path, data) == ["samples.png"] and (tmp_path / "samples.png").stat().st_size > 0


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = build(**SPEC.config)
    step = gan_step(model)
    step.train_batch(tiny_faces(4))  # running statistics that differ from their initial values
    save_checkpoint(tmp_path / "ckpt", model, CheckpointConfig(SPEC.name, dict(SPEC.config), dict(SPEC.preprocessing)))
    loaded = aezoo.load(tmp_path / "ckpt", device="cpu")
    assert loaded.state_dict().keys() == model.state_dict().keys()
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    assert torch.equal(loaded.sample(5, seed=7), model.sample(5, seed=7))


def test_finetune_continues_adversarial_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    base = aezoo.load("dcgan-faces", device="cpu")
    tuned = aezoo.finetune("dcgan-faces", data=tiny_faces(10), epochs=1, output_dir=tmp_path,
                           device="cpu", progress=False, options={"eval_samples": 16})
    assert tuned.aezoo.path == tmp_path and (tmp_path / "samples.png").is_file()
    assert {m.name for m in tuned.aezoo.card.metrics} == set(GANStep.metric_protocols)
    for part in ("generator", "discriminator"):
        changed = [k for k, v in tuned.state_dict().items()
                   if k.startswith(part) and k.endswith("weight") and not torch.equal(v, base.state_dict()[k])]
        assert changed, f"fine-tuning left the {part} unchanged"


def test_celeba_shape_trains_from_scratch_with_a_config_override(tmp_path: Path) -> None:
    """The documented CelebA route: train(config=...) builds the 64x64 RGB shape and feeds data at that shape."""
    config = {**CELEBA_CONFIG, "ngf": 8, "ndf": 8}  # the CelebA shape, narrow to stay fast
    tuned = aezoo.train("dcgan-faces", config=config, data=tiny_faces(10, size=64, channels=3), epochs=1,
                        output_dir=tmp_path, device="cpu", progress=False, options={"eval_samples": 8})
    assert tuned.aezoo.config == config
    assert tuned.aezoo.preprocessing["image_size"] == 64 and tuned.aezoo.preprocessing["channels"] == 3
    assert tuned.sample(2, seed=0).shape == (2, 3, 64, 64)


def test_shipped_weights_load_by_name_and_sample_varied_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    model = aezoo.load("dcgan-faces", device="cpu")
    assert model.aezoo.config == SPEC.config and count(model) == SPEC.params
    assert all((SHIPPED / f).stat().st_size < 8_000_000 for f in ("model.safetensors", "samples.png"))
    samples = model.sample(64, seed=0)
    assert samples.shape == (64, 1, 32, 32) and torch.equal(samples, model.sample(64, seed=0))
    # Not collapsed: the 20 held-out real faces differ by 0.26 RMS on average; a collapsed generator scores ~0.
    assert mean_pairwise_distance(samples) > 0.15
    # Not blank or saturated: faces have mid-grey content and contrast.
    assert 0.2 < float(samples.mean()) < 0.8 and float(samples.std(dim=(1, 2, 3)).mean()) > 0.1
    assert {m.name for m in model.aezoo.card.metrics} == set(GANStep.metric_protocols)
