"""PCA / probabilistic-PCA baselines (aezoo.baselines) against exact references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from aezoo.baselines import PCABaseline, reconstruction_mse


def random_images(n: int, shape: tuple[int, int, int], seed: int, decay: float = 0.9) -> torch.Tensor:
    """Images in roughly [0, 1] with a decaying spectrum, so that principal directions are well separated."""
    g = torch.Generator().manual_seed(seed)
    d = math.prod(shape)
    basis = torch.linalg.qr(torch.randn((d, d), generator=g, dtype=torch.float64)).Q
    scales = 0.2 * decay ** torch.arange(d, dtype=torch.float64)
    x = 0.5 + (torch.randn((n, d), generator=g, dtype=torch.float64) * scales) @ basis.T
    return x.to(torch.float32).reshape(n, *shape)


def test_exact_on_data_in_a_k_dim_subspace() -> None:
    g = torch.Generator().manual_seed(0)
    n, shape, k = 200, (2, 6, 6), 5
    d = math.prod(shape)
    basis = torch.linalg.qr(torch.randn((d, k), generator=g)).Q
    x = (0.5 + 0.05 * torch.randn((n, k), generator=g) @ basis.T).reshape(n, *shape)
    pca = PCABaseline().fit(x, k)
    assert pca.noise_variance_ == pytest.approx(0.0, abs=1e-9)
    torch.testing.assert_close(pca.reconstruct(x), x.clamp(0, 1), atol=2e-6, rtol=0)
    mse, per_image = reconstruction_mse(pca.reconstruct, x, batch_size=64)
    assert mse < 1e-11 and len(per_image) == n
    # the fitted subspace is the true one
    proj = pca.components_.double() @ basis.double()
    torch.testing.assert_close(proj @ proj.T, torch.eye(k, dtype=torch.float64), atol=1e-5, rtol=0)


def test_matches_numpy_svd_reference() -> None:
    n, shape, k = 300, (3, 5, 5), 10
    x = random_images(n, shape, seed=1)
    pca = PCABaseline().fit(x, k, seed=0)
    ref = x.reshape(n, -1).double().numpy()
    centred = ref - ref.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    eig = s**2 / (n - 1)
    np.testing.assert_allclose(pca.mean_.numpy(), ref.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(pca.explained_variance_.numpy(), eig[:k], rtol=1e-4)
    cos = np.abs(np.sum(pca.components_.double().numpy() * vt[:k], axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-4)
    assert pca.total_variance_ == pytest.approx(eig.sum(), rel=1e-10)
    # PPCA noise variance: mean of the D - k discarded eigenvalues of the D x D sample covariance
    d = ref.shape[1]
    assert pca.noise_variance_ == pytest.approx(eig[k:].sum() / (d - k), rel=1e-4)
    # codes are the projections on the principal directions
    codes = pca.encode(x).double().numpy()
    np.testing.assert_allclose(np.abs(codes), np.abs(centred @ vt[:k].T), atol=1e-4)


def test_more_components_never_increase_training_mse() -> None:
    x = random_images(150, (1, 8, 8), seed=2, decay=0.95)
    mses = [reconstruction_mse(PCABaseline().fit(x, k).reconstruct, x)[0] for k in (1, 2, 4, 8, 16, 32, 63)]
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in itertools.pairwise(mses)), mses
    assert mses[-1] < mses[0] / 10


def test_ppca_samples_have_the_fitted_covariance() -> None:
    x = random_images(400, (1, 6, 6), seed=3, decay=0.8)
    x = 0.5 + 0.5 * (x - 0.5)  # keep samples inside [0, 1] so clamping does not bias the check
    k = 4
    pca = PCABaseline().fit(x, k)
    samples = pca.sample(20000, seed=1).reshape(20000, -1).double()
    assert samples.min() > 0 and samples.max() < 1, "test data must not be clamped"
    centred = samples - samples.mean(dim=0)
    first = pca.components_[0].double()
    var_first = float((centred @ first).var())
    assert var_first == pytest.approx(float(pca.explained_variance_[0]), rel=0.04)
    total = float(centred.var(dim=0).sum())
    assert total == pytest.approx(pca.total_variance_, rel=0.03)
    # off the subspace the variance is the isotropic noise variance
    resid = centred - (centred @ pca.components_.double().T) @ pca.components_.double()
    per_dim = float(resid.var(dim=0).sum()) / (resid.shape[1] - k)
    assert per_dim == pytest.approx(pca.noise_variance_, rel=0.04)
    torch.testing.assert_close(samples.mean(dim=0).float(), pca.mean_, atol=0.01, rtol=0)


def test_sample_is_deterministic_for_a_seed() -> None:
    x = random_images(100, (3, 4, 4), seed=4)
    pca = PCABaseline().fit(x, 6)
    a = pca.sample(8, seed=5)
    assert a.shape == (8, 3, 4, 4) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, pca.sample(8, seed=5))
    assert not torch.equal(a, pca.sample(8, seed=6))


def test_fit_is_deterministic_for_a_seed() -> None:
    x = random_images(120, (2, 5, 5), seed=5)
    a, b = PCABaseline().fit(x, 8, seed=3), PCABaseline().fit(x, 8, seed=3)
    assert torch.equal(a.components_, b.components_)
    assert torch.equal(a.explained_variance_, b.explained_variance_)


def test_decode_encode_shapes_and_reconstruction_mse() -> None:
    x = random_images(64, (3, 4, 4), seed=6)
    pca = PCABaseline().fit(x, 7)
    codes = pca.encode(x)
    assert codes.shape == (64, 7)
    assert pca.decode(codes).shape == x.shape
    mse, per_image = reconstruction_mse(pca.reconstruct, x, batch_size=10)
    direct = ((pca.reconstruct(x).double() - x.double()) ** 2).mean(dim=(1, 2, 3))
    assert per_image == pytest.approx(direct.tolist(), rel=1e-6)
    assert mse == pytest.approx(sum(per_image) / len(per_image), rel=1e-12)
    assert mse == pytest.approx(float(direct.mean()), rel=1e-6)
    # the mean image is a worse reconstruction than PCA
    mean_only = reconstruction_mse(lambda b: pca.mean_.reshape(1, 3, 4, 4).expand_as(b), x)[0]
    assert mse < mean_only


@pytest.mark.parametrize(
    ("images", "components", "match"),
    [
        (torch.rand(10, 1, 2, 2), 4, "below min"),  # D = 4
        (torch.rand(5, 1, 4, 4), 5, "below min"),  # N = 5
        (torch.rand(10, 1, 4, 4), 0, "positive"),
        (torch.rand(10, 16), 2, "N, C, H, W"),
        (torch.zeros(10, 1, 4, 4, dtype=torch.uint8), 2, "floats"),
        (torch.full((10, 1, 4, 4), float("nan")), 2, "non-finite"),
        (np.zeros((10, 1, 4, 4)), 2, "Tensor"),
    ],
)
def test_fit_rejects_bad_inputs(images: object, components: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PCABaseline().fit(images, components)  # type: ignore[arg-type]


def test_encode_decode_reject_bad_inputs() -> None:
    pca = PCABaseline()
    with pytest.raises(RuntimeError, match="not fitted"):
        pca.encode(torch.rand(2, 1, 4, 4))
    pca.fit(torch.rand(20, 1, 4, 4), 3)
    with pytest.raises(ValueError, match="shape"):
        pca.encode(torch.rand(2, 1, 5, 5))
    with pytest.raises(ValueError, match="non-finite"):
        pca.encode(torch.full((2, 1, 4, 4), float("inf")))
    with pytest.raises(ValueError, match="codes"):
        pca.decode(torch.rand(2, 4))
    with pytest.raises(ValueError, match="n must"):
        pca.sample(0)
    with pytest.raises(ValueError, match="reconstruct returned"):
        reconstruction_mse(lambda b: b[:, :, :2], torch.rand(4, 1, 4, 4))
    with pytest.raises(ValueError, match="N, C, H, W"):
        reconstruction_mse(pca.reconstruct, torch.rand(4, 16))
