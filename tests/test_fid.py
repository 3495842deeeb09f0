"""FID: named errors without the right weights file, the Fréchet distance math, and the pipeline end to end
with a randomly initialised FID Inception saved as safetensors (the real weights cannot be had offline)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from aezoo import fid as F
from aezoo.checkpoint import save_tensors
from aezoo.errors import FIDUnavailableError


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FID InceptionV3 architecture with seeded random weights (He-scaled convs, non-trivial BatchNorm
    statistics), saved as safetensors exactly as a converted official file would be."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for name, value in F.inception_network().state_dict().items():
        if name.endswith(("running_var", "bn.weight")):
            state[name] = torch.rand(value.shape, generator=generator) + 0.5
        elif name.endswith(("running_mean", "bias")):
            state[name] = torch.randn(value.shape, generator=generator) * 0.1
        else:
            fan_in = value[0].numel()
            state[name] = torch.randn(value.shape, generator=generator) * math.sqrt(2.0 / fan_in)
    path = tmp_path_factory.mktemp("inception") / F.WEIGHTS_NAME
    save_tensors(state, path)
    return path


def faces(n: int, seed: int, size: int = 75, channels: int = 3) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed))


# --- missing or wrong weights -> a named error that says how to get the file ---

def test_missing_weights_file_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(FIDUnavailableError, match="No FID Inception weights file") as info:
        F.fid(faces(2, 0), faces(2, 1), inception_weights=tmp_path / "absent.safetensors")
    assert "pt_inception-2015-12-05" in str(info.value)  # the hint says which file to convert
    with pytest.raises(FIDUnavailableError):
        F.load_inception(None)  # type: ignore[arg-type]


def test_wrong_safetensors_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_tensors({"fc.weight": torch.zeros(1000, 2048)}, path)  # e.g. an ImageNet head, nothing else
    with pytest.raises(FIDUnavailableError, match="not the FID InceptionV3 weights") as info:
        F.load_inception(path)
    assert "missing" in str(info.value) and "Conv2d_1a_3x3.conv.weight" in str(info.value)
    assert "fc.weight" in str(info.value)  # mis-shaped: 1000 classes instead of 1008


def test_pickle_or_garbage_is_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    path.write_bytes(b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01u." + b"\x00" * 64)  # a pickle header
    with pytest.raises(FIDUnavailableError, match="not the FID InceptionV3 weights"):
        F.fid(faces(2, 0), faces(2, 1), inception_weights=path)


# --- the Fréchet distance ---

def test_identical_statistics_have_zero_distance() -> None:
    features = torch.randn(50, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    mean, cov = F.feature_statistics(features)
    assert F.frechet_distance(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-9)
    assert F.frechet_distance_of_features(features, features) == pytest.approx(0.0, abs=1e-9)


def test_feature_statistics_match_numpy() -> None:
    features = torch.randn(30, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mean, cov = F.feature_statistics(features)
    np.testing.assert_allclose(mean.numpy(), features.numpy().mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(features.numpy(), rowvar=False), rtol=1e-10)


def test_commuting_gaussians_match_the_closed_form() -> None:
    """Same eigenvectors: FD = |m1 - m2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    rotation, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    a, b = torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64), torch.tensor([4.0, 4.0, 1.0], dtype=torch.float64)
    sigma1, sigma2 = rotation @ torch.diag(a) @ rotation.T, rotation @ torch.diag(b) @ rotation.T
    mu1, mu2 = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    expected = 1 + 4 + (1 - 2) ** 2 + (2 - 2) ** 2 + (3 - 1) ** 2  # = 10
    assert F.frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_non_commuting_2x2_gaussians_match_the_closed_form() -> None:
    """For 2x2 M = S1 S2 with positive eigenvalues, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M))."""
    sigma1 = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    sigma2 = torch.tensor([[1.0, -0.3], [-0.3, 3.0]], dtype=torch.float64)
    mu1, mu2 = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    product = sigma1 @ sigma2
    trace_root = math.sqrt(float(torch.trace(product)) + 2 * math.sqrt(float(torch.det(product))))
    expected = 0.25 + 4.0 + 3.0 + 4.0 - 2 * trace_root
    assert F.frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_low_rank_path_equals_the_covariance_path() -> None:
    """Fewer samples than dimensions (as with few images and 2,048 features): the N1 x N2 shortcut is exact."""
    generator = torch.Generator().manual_seed(4)
    a = torch.randn(7, 40, generator=generator, dtype=torch.float64)
    b = torch.randn(9, 40, generator=generator, dtype=torch.float64) * 1.5 + 0.3
    full = F.frechet_distance(*F.feature_statistics(a), *F.feature_statistics(b))
    assert F.frechet_distance_of_features(a, b) == pytest.approx(full, rel=1e-6)
    assert full > 1.0


def test_bad_images_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.fid(faces(2, 0) * 2 - 1, faces(2, 1), inception_weights="unused")
    with pytest.raises(ValueError, match="at least 2 images"):
        F.fid(faces(1, 0), faces(2, 1), inception_weights="unused")
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        F.fid(torch.rand(2, 75, 75), faces(2, 1), inception_weights="unused")


# --- end to end, with random weights in the official layout ---

def test_pipeline_end_to_end(random_inception: Path) -> None:
    network = F.load_inception(random_inception)  # strict: every name, shape and dtype of the file
    real, fake = faces(3, 0), faces(3, 1) * 0.5  # darker "fakes"
    features = F.inception_features(real, network, resize=False)
    assert features.shape == (3, F.FEATURES) and features.dtype == torch.float64
    assert bool(torch.isfinite(features).all()) and float(features.std()) > 0
    assert F.frechet_distance_of_features(features, features) == pytest.approx(0.0, abs=1e-6)
    distance = F.fid(real, fake, inception_weights=random_inception, resize=False)  # from the path
    assert math.isfinite(distance) and distance > 0.0


def test_pipeline_resizes_grayscale_images_like_the_protocol(random_inception: Path) -> None:
    network = F.load_inception(random_inception)
    small = faces(2, 2, size=16, channels=1)
    assert F.inception_features(small, network).shape == (2, F.FEATURES)  # 16x16 gray -> 299x299 RGB
    with pytest.raises(ValueError, match="at least 75x75"):
        F.inception_features(small, network, resize=False)
