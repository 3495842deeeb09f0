"""conv-aae-faces: one builder for the shipped CelebA shape (64x64 RGB) and the small grayscale one, the
AAE API, the three-phase step through the engine (exact resume with three optimizers), the generative
metrics and baselines, fine-tuning, and the shipped weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from aezoo_conv_aae_faces.model import build
from aezoo_conv_aae_faces.plugin import CONFIG, PREPROCESSING, SMALL_CONFIG, SPEC
from torch.utils.data import DataLoader, TensorDataset

import aezoo
from aezoo.checkpoint import CheckpointConfig, save_checkpoint
from aezoo.training import finetune, train
from aezoo.training.engine import fit
from aezoo.training.steps.aae import AAEStep, mmd_squared

ROOT = Path(__file__).resolve().parents[3]
NAME = "conv-aae-faces"
# The shipped 64x64 RGB shape, narrow so that a few training steps take a fraction of a second.
NARROW = {**CONFIG, "latent_dim": 8, "widths": [8, 8, 16, 16], "disc_hidden": [16]}
TINY = {"image_size": 16, "channels": 1, "latent_dim": 4, "widths": [8, 16], "disc_hidden": [16], "norm": "batch"}
TINY_PREPROCESSING = {"image_size": 16, "channels": 1}
PHASES = ("autoencoder", "discriminator", "generator")
AAE_METRICS = {"mse", "psnr", "code_mean", "code_std", "code_mmd", "disc_accuracy"}
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


def tiny_recipe(**options) -> aezoo.Recipe:
    return dataclasses.replace(SPEC.recipe, epochs=2, batch_size=8, options={**SPEC.recipe.options, **options})


def tiny_data(n: int = 40) -> tuple[TensorDataset, TensorDataset]:
    images = face_like(n, size=16)
    labels = torch.zeros(n, dtype=torch.long)
    return TensorDataset(images[: n - 8], labels[: n - 8]), TensorDataset(images[n - 8 :], labels[n - 8 :])


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# -- architecture and API --------------------------------------------------------------------------
@pytest.mark.parametrize("config", [CONFIG, SMALL_CONFIG], ids=["shipped-64x64x3", "small-32x32x1"])
def test_one_builder_makes_both_shapes(config):
    model = build(**config)
    size, channels, latent = config["image_size"], config["channels"], config["latent_dim"]
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == config["widths"] and all(c.stride == (2, 2) for c in convs)
    images = face_like(2, size, channels)
    z = model.encode(images)
    assert z.shape == (2, latent)
    assert model.decode(z).shape == images.shape
    assert model.reconstruct(images).shape == images.shape
    samples = model.sample(3, seed=0)
    assert samples.shape == (3, channels, size, size)
    assert 0 <= float(samples.min()) and float(samples.max()) <= 1
    assert model.discriminate(z).shape == (2,)
    assert model.training  # the API left the mode alone


def test_the_spec_is_the_celeba_shape_and_states_its_parameter_count():
    info = aezoo.info(NAME)
    assert info.config == CONFIG and info.preprocessing == PREPROCESSING
    assert (CONFIG["image_size"], CONFIG["channels"]) == (PREPROCESSING["image_size"], PREPROCESSING["channels"])
    assert (CONFIG["image_size"], CONFIG["channels"]) == (64, 3)
    assert sum(p.numel() for p in build(**CONFIG).parameters()) == info.params == 4_192_388
    assert info.recipe.dataset == "celeba" and info.recipe.options["baselines"] is True
    assert set(AAEStep.metric_protocols) == AAE_METRICS | SAMPLE_METRICS | BASELINE_METRICS | {"mean_face_mse"}


@pytest.mark.parametrize("config, message", [
    ({**SMALL_CONFIG, "image_size": 36}, "divisible"), ({**SMALL_CONFIG, "widths": []}, "at least one"),
    ({**CONFIG, "image_size": 72}, "divisible"), ({**CONFIG, "norm": "layer"}, "norm"),
])
def test_bad_configs_are_refused(config, message):
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


def test_sample_is_deterministic_for_a_seed_and_touches_no_state():
    model = build(**SMALL_CONFIG)
    model(face_like(8))  # train mode: BatchNorm statistics move away from their initial values
    before = snapshot(model)
    rng = torch.get_rng_state()
    first = model.sample(6, seed=7)
    assert torch.equal(first, model.sample(6, seed=7))
    assert torch.equal(first, model.eval().sample(6, seed=7))
    assert not torch.equal(first, model.sample(6, seed=8))
    assert torch.equal(rng, torch.get_rng_state())  # a seeded sample leaves the global RNG alone
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_save_load_round_trip_is_exact_with_the_discriminator(tmp_path):
    torch.manual_seed(0)
    model = build(**TINY)
    step = AAEStep(model, tiny_recipe(), torch.device("cpu"))
    step.train_batch((face_like(8, size=16), torch.zeros(8)))  # moves weights and BatchNorm statistics
    save_checkpoint(tmp_path / "ckpt", model, CheckpointConfig(NAME, dict(TINY), {"image_size": 16, "channels": 1}))
    loaded = aezoo.load(tmp_path / "ckpt", device="cpu")
    assert loaded.aezoo.config == TINY  # the config, not the spec's, decides the architecture
    original = model.state_dict()
    assert loaded.state_dict().keys() == original.keys()
    assert any(k.startswith("discriminator.") for k in original)
    assert all(torch.equal(t, original[k]) for k, t in loaded.state_dict().items())
    images = face_like(3, size=16, seed=1)
    assert torch.equal(loaded.reconstruct(images), model.reconstruct(images))
    assert torch.equal(loaded.sample(3, seed=0), model.sample(3, seed=0))


# -- the three-phase step ----------------------------------------------------------------------------
def test_each_phase_moves_its_own_parameters():
    """Phase 2 alone moves the discriminator, phase 3 alone adds to the encoder's update and leaves
    the discriminator and decoder alone: compare one batch with a phase switched off (lr 0)."""
    batch = (face_like(8, size=16), torch.zeros(8))

    def one_batch(**options) -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        model = build(**TINY)
        step = AAEStep(model, tiny_recipe(flip=False, shift=0, **options), torch.device("cpu"))
        losses = step.train_batch(batch)
        assert set(losses) == {"recon", "disc", "gen"} and all(torch.isfinite(v) for v in losses.values())
        return snapshot(model)

    torch.manual_seed(0)
    initial = snapshot(build(**TINY))
    full = one_batch()
    no_disc = one_batch(lr_disc_factor=0.0)
    no_gen = one_batch(lr_gen_factor=0.0)

    def changed(a, b, prefix):
        keys = [k for k in a if k.startswith(prefix) and a[k].is_floating_point()]
        return any(not torch.equal(a[k], b[k]) for k in keys)

    for prefix in ("encoder.", "decoder_input.", "decoder.", "discriminator."):
        assert changed(full, initial, prefix), prefix
    assert not changed(no_disc, initial, "discriminator.")  # only phase 2 trains the discriminator
    assert changed(full, no_gen, "encoder.")  # phase 3 moves the encoder ...
    assert not changed(full, no_gen, "discriminator.")  # ... and nothing else
    assert not changed(full, no_gen, "decoder.") and not changed(full, no_gen, "decoder_input.")


def test_learning_rates_per_phase_follow_the_schedule():
    step = AAEStep(build(**TINY), tiny_recipe(lr_disc_factor=0.5, lr_gen_factor=0.25, schedule="cosine"),
                   torch.device("cpu"))
    lr = step.recipe.lr
    step.start_epoch(0, 4)
    assert [step.optimizers[p].param_groups[0]["lr"] for p in PHASES] == pytest.approx([lr, lr / 2, lr / 4])
    step.start_epoch(2, 4)
    assert [step.optimizers[p].param_groups[0]["lr"] for p in PHASES] == pytest.approx([lr / 2, lr / 4, lr / 8])


def test_a_few_steps_through_the_engine_train_all_three_phases(tmp_path):
    torch.manual_seed(0)
    model = build(**TINY)
    initial = snapshot(model)
    step = AAEStep(model, tiny_recipe(), torch.device("cpu"))
    train, test = tiny_data()
    result = fit(step, train, test, recipe=step.recipe, output_dir=tmp_path / "run", progress=False,
                 checkpoint=CheckpointConfig(NAME, dict(TINY), {"image_size": 16, "channels": 1}))
    assert result.steps == 8  # 2 epochs of 32 images in batches of 8
    for name in PHASES:  # every optimizer stepped once per batch
        states = step.optimizers[name].state.values()
        assert states and all(int(s["step"]) == 8 for s in states), name
    for prefix in ("encoder.", "decoder.", "discriminator."):
        assert any(not torch.equal(v, initial[k]) for k, v in model.state_dict().items() if k.startswith(prefix))
    assert set(result.metrics) == set(AAEStep.metric_protocols)  # the recipe's baselines are on
    assert all(torch.isfinite(torch.tensor(v)) for v in result.metrics.values())
    assert 0 <= result.metrics["disc_accuracy"] <= 1 and result.metrics["swd"] >= 0
    assert result.artifacts and all(Path(a).name == "samples.png" for a in result.artifacts)
    assert sorted(p.name for p in (tmp_path / "run").glob("*.png")) == ["samples.png"]


def test_resume_after_an_interruption_ends_where_an_uninterrupted_run_does(tmp_path):
    """One epoch, then a fresh process-like restart that resumes to two, against two straight epochs:
    weights, BatchNorm statistics and all three optimizers' states must agree exactly."""
    train, test = tiny_data()
    checkpoint = CheckpointConfig(NAME, dict(TINY), {"image_size": 16, "channels": 1})

    def run(folder: Path, epochs: int, seed: int) -> AAEStep:
        torch.manual_seed(seed)  # the resumed run starts from other weights: the state must overwrite them
        step = AAEStep(build(**TINY), tiny_recipe(), torch.device("cpu"))
        fit(step, train, test, recipe=step.recipe, output_dir=folder, checkpoint=checkpoint, epochs=epochs,
            progress=False)
        return step

    straight = run(tmp_path / "straight", 2, seed=0)
    run(tmp_path / "interrupted", 1, seed=0)
    resumed = run(tmp_path / "interrupted", 2, seed=123)

    expected, got = straight.model.state_dict(), resumed.model.state_dict()
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    for name in PHASES:
        a, b = straight.optimizers[name].state_dict(), resumed.optimizers[name].state_dict()
        assert a["param_groups"] == b["param_groups"], name
        assert a["state"].keys() == b["state"].keys(), name
        for index, state in a["state"].items():
            for field, value in state.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["state"][index][field])), (name, field)


def test_train_at_the_shipped_shape_with_the_recipe_on_synthetic_faces(tmp_path):
    """The recipe (baselines on) with synthetic 64x64 RGB faces instead of its CelebA, narrow widths."""
    model = train(NAME, data=face_like(20, 64, 3), config=NARROW, epochs=1, batch_size=8,
                  output_dir=tmp_path / "rgb", progress=False)
    assert model.aezoo.config == NARROW and model.aezoo.preprocessing == PREPROCESSING
    assert {m.name for m in model.aezoo.card.metrics} == set(AAEStep.metric_protocols)
    assert model.reconstruct(face_like(2, 64, 3)).shape == (2, 3, 64, 64)
    assert model.sample(2, seed=0).shape == (2, 3, 64, 64)
    assert sorted(p.name for p in (tmp_path / "rgb").glob("*.png")) == ["samples.png"]


def test_the_small_shape_trains_with_a_config_override(tmp_path):
    model = train(NAME, data=face_like(20), config=SMALL_CONFIG, epochs=1, batch_size=8,
                  output_dir=tmp_path / "small", progress=False, options={"baselines": False})
    assert model.aezoo.config == SMALL_CONFIG
    assert (model.aezoo.preprocessing["image_size"], model.aezoo.preprocessing["channels"]) == (32, 1)
    assert {m.name for m in model.aezoo.card.metrics} == set(AAEStep.metric_protocols) - BASELINE_METRICS
    assert model.reconstruct(face_like(2)).shape == (2, 1, 32, 32)


@pytest.mark.parametrize("baselines", [True, False])
def test_fit_references_adds_the_sample_and_baseline_metrics(baselines):
    torch.manual_seed(0)
    step = AAEStep(build(**TINY), tiny_recipe(baselines=baselines), torch.device("cpu"))
    train_images, test_images = face_like(24, size=16, seed=1), face_like(8, size=16, seed=2)
    test_loader = DataLoader(TensorDataset(test_images, torch.zeros(8)), batch_size=5)
    assert set(step.evaluate(test_loader)) == AAE_METRICS  # nothing to compare with before fit_references
    before = snapshot(step.model)
    step.fit_references(TensorDataset(train_images, torch.zeros(24)))
    assert all(torch.equal(v, before[k]) for k, v in step.model.state_dict().items())  # never changes the model
    metrics = step.evaluate(test_loader)
    assert set(metrics) == AAE_METRICS | SAMPLE_METRICS | {"mean_face_mse"} | (BASELINE_METRICS if baselines else set())
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert metrics["swd"] >= 0
    assert 0 <= metrics["min_nearest_train_distance"] <= metrics["nearest_train_distance"]
    assert metrics["heldout_nearest_train_distance"] > 0
    mean_face = train_images.mean(0)
    assert metrics["mean_face_mse"] == pytest.approx(float(((test_images - mean_face) ** 2).mean()), rel=1e-5)
    if baselines:
        assert metrics["pca_mse"] < metrics["mean_face_mse"]  # 4 components beat the mean face
        assert metrics["real_swd"] >= 0 and metrics["ppca_swd"] >= 0
    assert step.evaluate(test_loader) == metrics  # seeded: the same model measures the same


def test_write_artifacts_writes_only_samples(tmp_path):
    step = AAEStep(build(**TINY), tiny_recipe(), torch.device("cpu"))
    assert step.write_artifacts(tmp_path, TensorDataset(face_like(8, size=16), torch.zeros(8))) == ["samples.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["samples.png"]  # no held-out images or reconstructions
    assert (tmp_path / "samples.png").stat().st_size > 0


def test_mmd_is_near_zero_for_prior_samples_and_large_for_shifted_codes():
    g = torch.Generator().manual_seed(0)
    prior = torch.randn(1000, 8, generator=g)
    assert abs(mmd_squared(torch.randn(50, 8, generator=g), prior)) < 0.02
    assert mmd_squared(torch.randn(50, 8, generator=g) * 0.3 + 1.0, prior) > 0.2


# -- shipped weights and fine-tuning -----------------------------------------------------------------
@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return aezoo.load(NAME, device="cpu")


def test_finetune_continues_the_adversarial_training(shipped, tmp_path):
    tuned = finetune(NAME, data=face_like(10, 64, 3), epochs=1, output_dir=tmp_path / "tuned", progress=False)
    assert tuned.aezoo.path == tmp_path / "tuned"
    assert f"fine-tuned from {NAME}" in tuned.aezoo.card.training_data
    before, after = shipped.state_dict(), tuned.state_dict()
    for prefix in ("encoder.", "decoder.", "discriminator."):  # all three phases ran from the shipped weights
        assert any(not torch.equal(v.cpu(), before[k].cpu()) for k, v in after.items() if k.startswith(prefix)), prefix
    assert tuned.reconstruct(face_like(2, 64, 3)).shape == (2, 3, 64, 64)


def test_shipped_weights_are_the_celeba_shape_with_a_card_of_every_metric(shipped):
    assert shipped.aezoo.config == CONFIG and shipped.aezoo.preprocessing == PREPROCESSING
    assert sum(p.numel() for p in shipped.parameters()) == SPEC.params
    assert any(k.startswith("discriminator.") for k in shipped.state_dict())  # fine-tuning continues the game
    samples = shipped.sample(4, seed=0)
    assert samples.shape == (4, 3, 64, 64) and torch.equal(samples, shipped.sample(4, seed=0))
    assert 0 <= float(samples.min()) and float(samples.max()) <= 1
    card = {m.name: m.value for m in shipped.aezoo.card.metrics}
    assert set(card) == set(AAEStep.metric_protocols)
    assert card["mse"] < card["mean_face_mse"]  # it learned more than the average face
    assert card["real_swd"] <= card["swd"]  # real training faces are the floor
    assert 0.5 < card["code_std"] < 1.5  # the codes spread roughly like the prior N(0, I)


def test_shipped_weights_evaluate_on_other_data_with_references(shipped, monkeypatch):
    """aezoo.evaluate fits the references on the data's training split: every card metric comes back."""
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    measured = aezoo.evaluate(NAME, data=face_like(20, 64, 3), device="cpu")
    assert set(measured) == {m.name for m in shipped.aezoo.card.metrics}
    assert all(torch.isfinite(torch.tensor(v)) for v in measured.values())
