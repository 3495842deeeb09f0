"""Simple baselines for image autoencoders: PCA reconstruction and probabilistic-PCA sampling.

A sceptical reader first asks whether a trained autoencoder beats a linear one. PCA with k
components is the best linear encoder/decoder with a k-dimensional code in mean squared error
(Eckart-Young), so an autoencoder with latent size k that reconstructs held-out images worse than
``PCABaseline(k)`` has not earned its nonlinearity. Probabilistic PCA (Tipping & Bishop 1999) is
the matching generative bar: a Gaussian in the PCA subspace plus isotropic noise, fitted in closed
form; a generative model whose samples are not better than PPCA's on a sample metric (for example
``aezoo.swd.sliced_wasserstein``) has not earned its training either.

Fitting uses a randomized SVD of the implicitly centred data (Halko, Martinsson & Tropp 2011:
``q = k + oversampling`` Gaussian probes, a few power iterations with QR re-orthonormalisation), in
float32, seeded by a CPU generator. The data are never copied or centred in memory. The total
variance (for the PPCA noise variance) is computed exactly, in float64, batch by batch. Variances
use the unbiased sample covariance (divide by N - 1), as scikit-learn does.

Measured on 15,000 CelebA faces at 64x64x3 (D = 12,288), k = 128, on 2 shared CPU cores (load 5-12):
the default (oversampling 32, 7 power iterations) fitted in 69 s and captured 0.999995 of the exact
top-128 variance, with the 128th eigenvalue within 0.27 % and the noise variance within 0.01 % of
exact; 4 iterations took 59 s (0.99994, 1.7 %). The exact alternative, the float64 covariance
accumulated in batches (297 s) and its eigendecomposition (1,063 s), took 1,360 s.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["PCABaseline", "reconstruction_mse"]

_BATCH = 2048  # rows per batch for the float64 passes over the data


def _flat_images(name: str, images: object) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor (N, C, H, W), got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"{name} must be a batch of images (N, C, H, W), got shape {tuple(images.shape)}")
    if images.shape[0] < 1:
        raise ValueError(f"{name} holds no images")
    if not images.is_floating_point():
        raise ValueError(f"{name} must hold floats in [0, 1], got dtype {images.dtype}")
    if not bool(torch.isfinite(images).all()):
        raise ValueError(f"{name} holds non-finite values (NaN or inf)")
    return images.reshape(images.shape[0], -1)


def _orthonormal(x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.qr(x, mode="reduced").Q


def _randomized_pca(
    x: torch.Tensor, mean: torch.Tensor, k: int, oversampling: int, power_iterations: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k right singular vectors (k, D) and singular values (k,) of ``x - mean``, not forming it."""
    n, d = x.shape
    q = min(k + oversampling, n, d)
    mean = mean.to(x.dtype)

    def right(m: torch.Tensor) -> torch.Tensor:  # (x - mean) @ m
        return x @ m - (mean @ m).unsqueeze(0)

    def left(m: torch.Tensor) -> torch.Tensor:  # (x - mean).T @ m
        return x.T @ m - torch.outer(mean, m.sum(dim=0))

    probes = torch.randn((d, q), generator=gen, dtype=torch.float32).to(device=x.device, dtype=x.dtype)
    basis = _orthonormal(right(probes))
    for _ in range(power_iterations):
        basis = _orthonormal(right(_orthonormal(left(basis))))
    small = left(basis).T.to(torch.float64)  # (q, D) = basis.T @ (x - mean)
    _, s, vt = torch.linalg.svd(small, full_matrices=False)
    return vt[:k], s[:k]


class PCABaseline:
    """PCA autoencoder and PPCA sampler on flattened images (C, H, W in [0, 1]).

    Attributes after ``fit``: ``mean_`` (D,), ``components_`` (k, D) orthonormal rows,
    ``explained_variance_`` (k,), ``noise_variance_`` (the PPCA sigma^2: mean of the D - k discarded
    eigenvalues of the sample covariance), ``total_variance_`` (trace of the sample covariance),
    ``image_shape`` (C, H, W). Parameters are float32 on the fitting data's device.
    """

    def __init__(self, *, oversampling: int = 32, power_iterations: int = 7) -> None:
        self.oversampling = oversampling
        self.power_iterations = power_iterations
        self.image_shape: tuple[int, int, int] | None = None

    def fit(self, images: torch.Tensor, components: int, *, seed: int = 0) -> PCABaseline:
        """Fit the top ``components`` principal directions of ``images`` (N, C, H, W)."""
        x = _flat_images("images", images)
        n, d = x.shape
        if not isinstance(components, int) or isinstance(components, bool) or components < 1:
            raise ValueError(f"components must be a positive integer, got {components!r}")
        if components >= min(n, d):
            raise ValueError(f"components must be below min(N, D) = min({n}, {d}), got {components}")
        if x.dtype != torch.float32:
            x = x.to(torch.float32)

        mean64 = torch.zeros(d, dtype=torch.float64, device=x.device)
        for s in range(0, n, _BATCH):
            mean64 += x[s : s + _BATCH].to(torch.float64).sum(dim=0)
        mean64 /= n
        total = torch.zeros((), dtype=torch.float64, device=x.device)
        for s in range(0, n, _BATCH):
            total += (x[s : s + _BATCH].to(torch.float64) - mean64).square().sum()
        total_variance = float(total) / (n - 1)

        gen = torch.Generator(device="cpu").manual_seed(seed)
        vt, sing = _randomized_pca(x, mean64, components, self.oversampling, self.power_iterations, gen)
        # deterministic signs: the largest-magnitude entry of each component is positive
        signs = torch.sign(vt.gather(1, vt.abs().argmax(dim=1, keepdim=True)))
        vt = vt * torch.where(signs == 0, torch.ones_like(signs), signs)
        explained = sing.square() / (n - 1)

        self.image_shape = tuple(images.shape[1:])  # type: ignore[assignment]
        self.mean_ = mean64.to(torch.float32)
        self.components_ = vt.to(torch.float32).contiguous()
        self.explained_variance_ = explained.to(torch.float32)
        self.total_variance_ = total_variance
        self.noise_variance_ = max(total_variance - float(explained.sum()), 0.0) / (d - components)
        return self

    # -- autoencoder ---------------------------------------------------------------------------

    def _fitted(self) -> tuple[int, int, int]:
        if self.image_shape is None:
            raise RuntimeError("PCABaseline is not fitted: call fit(images, components) first")
        return self.image_shape

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Codes (N, k): coordinates of the centred images on the principal directions."""
        shape = self._fitted()
        if not isinstance(images, torch.Tensor) or tuple(images.shape[1:]) != shape:
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"images must have shape (N, {', '.join(map(str, shape))}), got {got}")
        x = _flat_images("images", images).to(torch.float32)
        return (x - self.mean_.to(x.device)) @ self.components_.to(x.device).T

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) from codes (N, k); not clamped."""
        shape = self._fitted()
        k = self.components_.shape[0]
        if not isinstance(codes, torch.Tensor) or codes.ndim != 2 or codes.shape[1] != k:
            got = tuple(codes.shape) if isinstance(codes, torch.Tensor) else type(codes).__name__
            raise ValueError(f"codes must have shape (N, {k}), got {got}")
        if not bool(torch.isfinite(codes).all()):
            raise ValueError("codes hold non-finite values (NaN or inf)")
        z = codes.to(torch.float32)
        x = z @ self.components_.to(z.device) + self.mean_.to(z.device)
        return x.reshape(codes.shape[0], *shape)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Project onto the fitted subspace and back, clamped to [0, 1]."""
        return self.decode(self.encode(images)).clamp(0.0, 1.0)

    # -- generative model ----------------------------------------------------------------------

    def sample(self, n: int, *, seed: int = 0) -> torch.Tensor:
        """``n`` PPCA samples ``mean + W z + sigma eps``, clamped to [0, 1], on the parameters' device.

        ``W = U_k (L_k - sigma^2 I)^(1/2)``, so the sample covariance is ``W W^T + sigma^2 I``: the
        fitted eigenvalues along the components, sigma^2 elsewhere (Tipping & Bishop 1999, eq. 7-8).
        """
        shape = self._fitted()
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        gen = torch.Generator(device="cpu").manual_seed(seed)
        k, d = self.components_.shape
        z = torch.randn((n, k), generator=gen)
        eps = torch.randn((n, d), generator=gen)
        device = self.components_.device
        scale = (self.explained_variance_ - self.noise_variance_).clamp_min(0.0).sqrt()
        x = (z.to(device) * scale) @ self.components_ + self.mean_ + self.noise_variance_**0.5 * eps.to(device)
        return x.reshape(n, *shape).clamp(0.0, 1.0)


def reconstruction_mse(
    reconstruct: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int = 512
) -> tuple[float, list[float]]:
    """Pooled per-pixel MSE over all images, and each image's own per-pixel MSE.

    ``reconstruct`` maps a batch (B, C, H, W) to a batch of the same shape; it is called under
    ``torch.no_grad`` in batches of ``batch_size``. Sums are taken in float64.
    """
    _flat_images("images", images)  # validates: shape, dtype, finiteness
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    per_image: list[float] = []
    with torch.no_grad():
        for s in range(0, images.shape[0], batch_size):
            batch = images[s : s + batch_size]
            out = reconstruct(batch)
            if not isinstance(out, torch.Tensor) or out.shape != batch.shape:
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ValueError(f"reconstruct returned {got} for a batch of shape {tuple(batch.shape)}")
            err = (out.to(torch.float64) - batch.to(device=out.device, dtype=torch.float64)).square()
            per_image.extend(err.reshape(batch.shape[0], -1).mean(dim=1).tolist())
    return sum(per_image) / len(per_image), per_image
