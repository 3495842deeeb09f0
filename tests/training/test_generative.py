"""What generative models are measured against (aezoo.training.steps.generative): the nearest-training-image
distances that reveal copies, the sample distances with their PPCA and real-image references, and the
reconstruction baselines; and a sampler that memorises its training images, caught through GANStep."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

from aezoo.spec import Recipe
from aezoo.swd import sliced_wasserstein
from aezoo.training.steps.gan import GANStep
from aezoo.training.steps.generative import GenerativeReferences, nearest_distances, stack_images

SAMPLE_METRICS = {"swd", "nearest_train_distance", "min_nearest_train_distance", "heldout_nearest_train_distance"}


def blobs(n: int, size: int = 16, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """Gaussian blobs at random places and widths, tinted per channel: images in [0, 1] that differ."""
    g = torch.Generator().manual_seed(seed)
    axis = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    centres = torch.rand(n, 2, generator=g) * 1.2 - 0.6
    widths = torch.rand(n, 1, 1, generator=g) * 0.3 + 0.05
    shape = torch.exp(-((xx - centres[:, :1, None]) ** 2 + (yy - centres[:, 1:, None]) ** 2) / widths)
    tint = torch.rand(n, channels, 1, 1, generator=g) * 0.5 + 0.5
    return (shape.unsqueeze(1) * tint + 0.05 * torch.rand(n, channels, size, size, generator=g)).clamp(0, 1)


def labelled(images: torch.Tensor) -> TensorDataset:
    return TensorDataset(images, torch.zeros(len(images), dtype=torch.long))


def test_nearest_distances_are_the_brute_force_rms_distances():
    a, b = blobs(7, seed=1), blobs(600, seed=2)  # more reference images than one distance batch holds
    brute = torch.stack([((b - image) ** 2).flatten(1).mean(1).min().sqrt() for image in a])
    torch.testing.assert_close(nearest_distances(a, b), brute, rtol=1e-4, atol=1e-4)
    assert float(nearest_distances(b[:5], b).max()) < 1e-3  # an image's nearest neighbour in a set holding it


def test_stack_images_reads_tensor_datasets_and_other_datasets_alike():
    images = blobs(10)
    assert torch.equal(stack_images(labelled(images)), images)
    assert torch.equal(stack_images(labelled(images), limit=4), images[:4])
    assert torch.equal(stack_images(Subset(labelled(images), [1, 3, 5])), images[[1, 3, 5]])


def test_a_sampler_that_returns_training_images_is_caught_copying():
    train, test = blobs(40, seed=1), blobs(10, seed=2)
    references = GenerativeReferences(labelled(train), latent_dim=8, baselines=True)
    copies = references.sample_metrics(train[:10], test)
    assert copies["min_nearest_train_distance"] < 1e-3 and copies["nearest_train_distance"] < 1e-3
    assert copies["heldout_nearest_train_distance"] > 0.02  # new images sit far from every training image
    assert copies["nearest_train_distance"] < 0.1 * copies["heldout_nearest_train_distance"]
    new = references.sample_metrics(blobs(10, seed=3), test)
    assert new["min_nearest_train_distance"] > 0.02
    assert new["heldout_nearest_train_distance"] == copies["heldout_nearest_train_distance"]  # about the data only


def test_sample_metrics_with_baselines_have_their_references():
    train, test = blobs(60, seed=1), blobs(12, seed=2)
    references = GenerativeReferences(labelled(train), latent_dim=8, baselines=True)
    perfect = references.sample_metrics(test.clone(), test)  # "samples" that are the held-out images
    assert set(perfect) == SAMPLE_METRICS | {"ppca_swd", "real_swd"}
    assert perfect["swd"] == 0.0  # same images, same patch positions
    assert perfect["real_swd"] >= 0 and perfect["ppca_swd"] >= 0
    expected_real = sliced_wasserstein(train[torch.randperm(60, generator=torch.Generator().manual_seed(0))[:12]],
                                       test, seed=0)["swd_avg"]
    assert perfect["real_swd"] == pytest.approx(expected_real)
    noise = references.sample_metrics(torch.rand(12, 3, 16, 16, generator=torch.Generator().manual_seed(5)), test)
    assert noise["swd"] > noise["real_swd"]  # uniform noise is a worse sampler of blobs than real blobs
    assert noise["real_swd"] == perfect["real_swd"]  # what does not depend on the samples is measured once


def test_without_baselines_only_the_model_free_references_are_kept():
    train, test = blobs(30, seed=1), blobs(8, seed=2)
    references = GenerativeReferences(labelled(train), latent_dim=8, baselines=False)
    assert references.pca is None
    assert set(references.sample_metrics(blobs(8, seed=3), test)) == SAMPLE_METRICS
    assert set(references.reconstruction_baselines(test)) == {"mean_face_mse"}


def test_reconstruction_baselines_pca_beats_the_mean_image():
    train, test = blobs(60, seed=1), blobs(12, seed=2)
    references = GenerativeReferences(labelled(train), latent_dim=16, baselines=True)
    metrics = references.reconstruction_baselines(test)
    assert metrics["mean_face_mse"] == pytest.approx(float(((test - train.mean(0)) ** 2).mean()), rel=1e-6)
    assert 0 <= metrics["pca_mse"] < metrics["mean_face_mse"]


def test_pca_components_are_clamped_to_the_data():
    """A latent size above the number of training images: PCA keeps what the data allow (N - 1)."""
    references = GenerativeReferences(labelled(blobs(6)), latent_dim=128, baselines=True)
    assert references.pca is not None and references.pca.components_.shape[0] == 5
    assert set(references.reconstruction_baselines(blobs(4, seed=1))) == {"mean_face_mse", "pca_mse"}
    single = GenerativeReferences(labelled(blobs(1)), latent_dim=128, baselines=True)  # no component to fit
    assert single.pca is None
    assert set(single.sample_metrics(blobs(3, seed=1), blobs(3, seed=2))) == SAMPLE_METRICS


def test_the_swd_sample_size_is_the_held_out_size_up_to_the_cap():
    references = GenerativeReferences(labelled(blobs(4)), latent_dim=2, baselines=False)
    assert references.swd_size(torch.zeros(17, 3, 16, 16)) == 17
    assert references.swd_size(torch.zeros(2500, 1, 1, 1)) == 2000


class Memoriser(nn.Module):
    """A "GAN" whose generator returns its training images: sample i is training image i (cycled)."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.nz = 4
        self.generator = nn.Linear(1, 1)  # parameters for GANStep's optimizers; never used
        self.discriminator = nn.Linear(images[0].numel(), 1)
        self.register_buffer("images", images)

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        return self.images[torch.arange(n) % len(self.images)]

    def discriminate(self, images: torch.Tensor) -> torch.Tensor:
        return self.discriminator(images.flatten(1)).flatten()


def test_gan_step_reports_a_memorising_sampler():
    train, test = blobs(32, seed=1), blobs(8, seed=2)
    recipe = Recipe("aezoo.training.steps.gan:GANStep", "in-memory", epochs=1, batch_size=8, lr=1e-3,
                    options={"baselines": True, "eval_samples": 16})
    step = GANStep(Memoriser(train), recipe, torch.device("cpu"))
    step.fit_references(labelled(train))
    metrics = step.evaluate(DataLoader(labelled(test), batch_size=4))
    assert metrics["min_nearest_train_distance"] < 1e-3 and metrics["nearest_train_distance"] < 1e-3
    assert metrics["heldout_nearest_train_distance"] > 0.02
    assert metrics["swd"] >= 0 and "real_swd" in metrics and "ppca_swd" in metrics
    honest = GANStep(Memoriser(blobs(32, seed=3)), dataclasses.replace(recipe), torch.device("cpu"))
    honest.fit_references(labelled(train))  # samples are new images of the same kind
    assert honest.evaluate(DataLoader(labelled(test), batch_size=4))["min_nearest_train_distance"] > 0.02
