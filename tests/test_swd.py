"""The multi-scale sliced Wasserstein distance (aezoo.swd) on small synthetic image sets."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from aezoo.swd import sliced_wasserstein

# small settings keep the tests fast; the method is the same as with the paper's defaults
FAST = {"descriptors_per_image": 32, "dirs_per_repeat": 32, "dir_repeats": 2}


def blobs(n: int, size: int, seed: int, channels: int = 3) -> torch.Tensor:
    """Structured images in [0, 1]: a smooth colour gradient plus a few hard-edged coloured discs."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    img = 0.3 + 0.4 * torch.rand((n, channels, 1, 1), generator=g) * (xx + yy) / 2
    for _ in range(5):
        cy, cx = torch.rand((2, n, 1, 1, 1), generator=g)
        r = 0.08 + 0.12 * torch.rand((n, 1, 1, 1), generator=g)
        colour = torch.rand((n, channels, 1, 1), generator=g) - 0.5
        img = img + colour * (((yy - cy) ** 2 + (xx - cx) ** 2) < r**2).float()
    return img.clamp(0, 1)


def blur(x: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    k = (torch.outer(k, k) / 256).expand(x.shape[1], 1, 5, 5)
    for _ in range(2):
        x = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), k, groups=x.shape[1])
    return x


@pytest.fixture(scope="module")
def faces32() -> torch.Tensor:
    return blobs(128, 32, seed=1)


def test_keys_are_the_pyramid_resolutions() -> None:
    x = blobs(8, 64, seed=0)
    out = sliced_wasserstein(x, blobs(8, 64, seed=5), **FAST)
    assert list(out) == ["swd_64", "swd_32", "swd_16", "swd_avg"]
    assert out["swd_avg"] == pytest.approx((out["swd_64"] + out["swd_32"] + out["swd_16"]) / 3)
    assert list(sliced_wasserstein(x[:, :, :32, :32], x[:, :, 32:, 32:], **FAST)) == ["swd_32", "swd_16", "swd_avg"]


def test_identical_sets_score_zero(faces32: torch.Tensor) -> None:
    out = sliced_wasserstein(faces32, faces32.clone(), **FAST)
    assert all(v == 0.0 for v in out.values()), out


def test_real_vs_real_below_blurred_below_noise(faces32: torch.Tensor) -> None:
    a, b = faces32[:64], faces32[64:]
    real = sliced_wasserstein(a, b, **FAST)
    blurred = sliced_wasserstein(a, blur(b), **FAST)
    noise = sliced_wasserstein(a, torch.rand(b.shape, generator=torch.Generator().manual_seed(3)), **FAST)
    assert 0 < real["swd_avg"] < blurred["swd_avg"] < noise["swd_avg"], (real, blurred, noise)
    # blurring removes the finest detail: the full-resolution level sees it most
    assert real["swd_32"] * 1.5 < blurred["swd_32"] < noise["swd_32"], (real, blurred, noise)
    assert noise["swd_avg"] > 3 * real["swd_avg"]


def test_ordering_with_three_levels_at_64() -> None:
    x = blobs(96, 64, seed=2)
    a, b = x[:48], x[48:]
    real = sliced_wasserstein(a, b, **FAST)
    blurred = sliced_wasserstein(a, blur(b), **FAST)
    noise = sliced_wasserstein(a, torch.rand(b.shape, generator=torch.Generator().manual_seed(4)), **FAST)
    assert set(real) == {"swd_64", "swd_32", "swd_16", "swd_avg"}
    assert 0 < real["swd_avg"] < blurred["swd_avg"] < noise["swd_avg"], (real, blurred, noise)
    assert real["swd_64"] * 1.5 < blurred["swd_64"] < noise["swd_64"], (real, blurred, noise)
    for key in real:
        assert real[key] < noise[key] / 2, (key, real, noise)


def test_deterministic_for_a_seed_and_seed_matters(faces32: torch.Tensor) -> None:
    a, b = faces32[:48], faces32[48:]
    first = sliced_wasserstein(a, b, seed=7, **FAST)
    assert sliced_wasserstein(a, b, seed=7, **FAST) == first
    assert sliced_wasserstein(a, b, seed=8, **FAST) != first


def test_symmetric(faces32: torch.Tensor) -> None:
    a, b = faces32[:48], blur(faces32[48:])
    ab, ba = sliced_wasserstein(a, b, **FAST), sliced_wasserstein(b, a, **FAST)
    for key in ab:
        assert math.isclose(ab[key], ba[key], rel_tol=1e-4), (key, ab, ba)


def test_batch_size_does_not_change_the_result(faces32: torch.Tensor) -> None:
    a, b = faces32[:40], faces32[40:]
    whole = sliced_wasserstein(a, b, batch_size=256, **FAST)
    batched = sliced_wasserstein(a, b, batch_size=7, **FAST)
    for key in whole:
        assert math.isclose(whole[key], batched[key], rel_tol=1e-5, abs_tol=1e-6), (key, whole, batched)


def test_different_set_sizes_are_subsampled(faces32: torch.Tensor) -> None:
    a, b = faces32[:80], faces32[80:]
    out = sliced_wasserstein(a, b, **FAST)
    assert all(math.isfinite(v) and v > 0 for v in out.values())
    assert sliced_wasserstein(a, b, **FAST) == out
    swapped = sliced_wasserstein(b, a, **FAST)
    for key in out:
        assert math.isclose(out[key], swapped[key], rel_tol=1e-4)
    # a subset of the same images stays near zero compared with a different distribution
    same = sliced_wasserstein(faces32, faces32[:64], **FAST)
    noise = sliced_wasserstein(faces32, torch.rand((64, 3, 32, 32), generator=torch.Generator().manual_seed(0)), **FAST)
    assert same["swd_avg"] < noise["swd_avg"] / 4, (same, noise)


def test_paper_defaults_and_constant_images() -> None:
    x = blobs(4, 32, seed=3)
    out = sliced_wasserstein(x, torch.full_like(x, 0.5))  # 128 descriptors, 4 x 128 directions
    assert all(math.isfinite(v) for v in out.values())
    assert out["swd_avg"] > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(faces32: torch.Tensor) -> None:
    a, b = faces32[:48], blur(faces32[48:])
    cpu = sliced_wasserstein(a, b, **FAST)
    gpu = sliced_wasserstein(a.cuda(), b.cuda(), **FAST)
    assert gpu == sliced_wasserstein(a.cuda(), b.cuda(), **FAST)
    for key in cpu:
        assert math.isclose(cpu[key], gpu[key], rel_tol=1e-3), (key, cpu, gpu)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        (torch.rand(4, 32, 32), torch.rand(4, 32, 32), {}, "N, C, H, W"),
        (torch.rand(4, 3, 32, 32), torch.rand(4, 1, 32, 32), {}, "same"),
        (torch.rand(4, 3, 32, 32), torch.rand(4, 3, 64, 64), {}, "same"),
        (torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8), {}, "min_resolution"),
        (torch.full((4, 3, 32, 32), float("nan")), torch.rand(4, 3, 32, 32), {}, "non-finite"),
        (torch.rand(4, 3, 32, 32), torch.full((4, 3, 32, 32), float("inf")), {}, "non-finite"),
        (torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.rand(4, 3, 32, 32), {}, "floats"),
        (torch.rand(0, 3, 32, 32), torch.rand(4, 3, 32, 32), {}, "no images"),
        (torch.rand(4, 3, 66, 66), torch.rand(4, 3, 66, 66), {}, "divisible"),
        (torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32), {"patch_size": 6}, "odd"),
        (torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32), {"min_resolution": 4}, "min_resolution"),
        (torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32), {"batch_size": 0}, "batch_size"),
        ([[0.0]], torch.rand(4, 3, 32, 32), {}, "Tensor"),
    ],
)
def test_bad_inputs_raise_value_error(a: object, b: object, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sliced_wasserstein(a, b, **kwargs)  # type: ignore[arg-type]
