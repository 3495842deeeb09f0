"""Fréchet Inception Distance (FID) with a user-supplied Inception weights file.

FID compares the Gaussian statistics of InceptionV3 pool3 features (2,048 per image) of two image
sets: ``|mu_r - mu_f|^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2))`` (Heusel et al., 2017).

The network is the FID variant of InceptionV3 that pytorch-fid uses (TensorFlow's 2015-12-05
Inception graph: torchvision's InceptionV3 layout with 1,008 classes, no auxiliary classifier,
average pools that exclude padding and a max pool in the last block), built here from code. Images
are resized to 299x299 (bilinear, ``align_corners=False``) and mapped to [-1, 1], as pytorch-fid
does, so numbers are comparable with pytorch-fid's.

The weights cannot be downloaded by aezoo (and aezoo never unpickles), so FID needs a
SAFETENSORS file of them, passed by path. Convert the official pytorch-fid weights once, in an
environment you trust (the ``.pth`` file is a pickle)::

    # pt_inception-2015-12-05-6726825d.pth: pytorch-fid downloads it on first use, from
    # https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
    import torch
    from safetensors.torch import save_file

    state = torch.load("pt_inception-2015-12-05-6726825d.pth", map_location="cpu", weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items() if not k.endswith("num_batches_tracked")},
              "pt_inception-2015-12-05.safetensors")

then ``aezoo.fid.fid(real, fake, inception_weights="pt_inception-2015-12-05.safetensors")``. The
file is loaded strictly (every tensor name, shape and dtype must match), so any other file --
torchvision's ImageNet Inception, torch-fidelity's layout, a truncated download -- is refused with
``FIDUnavailableError`` instead of producing a number that is not FID.

FID is biased for small sets: the usual protocol is 50,000 generated images against the full
training set; with a few hundred images it is only comparable with numbers measured the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AezooError, FIDUnavailableError

if TYPE_CHECKING:
    import torch
    from torch import nn

FEATURES = 2048
INPUT_SIZE = 299
MIN_SIZE = 75  # the smallest input InceptionV3's stem and reductions accept (with resize=False)
WEIGHTS_NAME = "pt_inception-2015-12-05.safetensors"
_CONVERT_HINT = (
    "FID needs the FID InceptionV3 weights as a safetensors file: convert pytorch-fid's "
    "pt_inception-2015-12-05-6726825d.pth once (see the docstring of aezoo.fid) and pass its path as "
    "inception_weights=."
)


def _fid_blocks() -> dict[str, type]:
    """pytorch-fid's patches of torchvision's Inception blocks (TF's FID graph differs in its pooling)."""
    import torch
    from torch.nn import functional
    from torchvision.models import inception

    def pool_avg(x: torch.Tensor) -> torch.Tensor:
        return functional.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class FIDInceptionA(inception.InceptionA):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([b1, b5, b3, self.branch_pool(pool_avg(x))], 1)

    class FIDInceptionC(inception.InceptionC):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            b7d = self.branch7x7dbl_1(x)
            for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
                b7d = layer(b7d)
            return torch.cat([b1, b7, b7d, self.branch_pool(pool_avg(x))], 1)

    class FIDInceptionE(inception.InceptionE):
        max_pool = False  # the last block (Mixed_7c) pools with max instead of average

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
            pooled = functional.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else pool_avg(x)
            return torch.cat([b1, b3, b3d, self.branch_pool(pooled)], 1)

    class FIDInceptionEMax(FIDInceptionE):
        max_pool = True

    return {"A": FIDInceptionA, "C": FIDInceptionC, "E1": FIDInceptionE, "E2": FIDInceptionEMax}


def inception_network() -> nn.Module:
    """The FID InceptionV3, untrained (the architecture only); ``load_inception`` fills in the weights.

    Its state dict has exactly the tensors of the converted pytorch-fid file: torchvision's
    Inception3 names with 1,008 classes and no auxiliary classifier; its BatchNorms are frozen
    (inference only, so they carry no ``num_batches_tracked`` counter).
    """
    from torchvision.models.inception import BasicConv2d, Inception3
    from torchvision.ops.misc import FrozenBatchNorm2d

    blocks = _fid_blocks()
    net = Inception3(num_classes=1008, aux_logits=False, transform_input=False, init_weights=False)
    net.Mixed_5b = blocks["A"](192, pool_features=32)
    net.Mixed_5c = blocks["A"](256, pool_features=64)
    net.Mixed_5d = blocks["A"](288, pool_features=64)
    net.Mixed_6b = blocks["C"](768, channels_7x7=128)
    net.Mixed_6c = blocks["C"](768, channels_7x7=160)
    net.Mixed_6d = blocks["C"](768, channels_7x7=160)
    net.Mixed_6e = blocks["C"](768, channels_7x7=192)
    net.Mixed_7b = blocks["E1"](1280)
    net.Mixed_7c = blocks["E2"](2048)
    for module in net.modules():
        if isinstance(module, BasicConv2d):
            module.bn = FrozenBatchNorm2d(module.bn.num_features, eps=module.bn.eps)
    return net.eval().requires_grad_(False)


def load_inception(path: str | Path) -> nn.Module:
    """The FID InceptionV3 with the weights of a converted safetensors file, loaded strictly.

    Raises ``FIDUnavailableError`` when there is no file at ``path`` or it is not that network's weights.
    """
    from .checkpoint import load_weights

    if path is None or not Path(path).is_file():
        raise FIDUnavailableError(f"No FID Inception weights file at {str(path)!r}.", _CONVERT_HINT)
    net = inception_network()
    try:
        load_weights(net, Path(path))
    except AezooError as exc:  # IncompatibleWeightsError, CheckpointError (not safetensors, truncated ...)
        raise FIDUnavailableError(f"{path} is not the FID InceptionV3 weights: {exc.what}", _CONVERT_HINT) from exc
    return net


def _check_images(images: Any, name: str) -> torch.Tensor:
    import torch

    if not torch.is_tensor(images) or not images.is_floating_point() or images.dim() != 4 \
            or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise ValueError(f"{name} must be a float tensor (N, 1 or 3, H, W) of images in [0, 1], got {shape}.")
    if images.shape[0] < 2:
        raise ValueError(f"{name}: FID needs at least 2 images per set (a covariance), got {images.shape[0]}.")
    if images.numel() and (float(images.min()) < -1e-3 or float(images.max()) > 1 + 1e-3):
        raise ValueError(f"{name} must hold images in [0, 1]; got values in "
                         f"[{float(images.min()):.3g}, {float(images.max()):.3g}] "
                         "(map [-1, 1] images with (x + 1) / 2).")
    return images


def inception_features(images: torch.Tensor, network: nn.Module, *, batch_size: int = 50,
                       resize: bool = True) -> torch.Tensor:
    """Pool3 features (N, 2048) in float64 of images (N, C, H, W) in [0, 1] (grayscale is repeated to RGB).

    ``resize=True`` (the FID protocol) resizes to 299x299 bilinearly; without it, images must be at
    least 75x75.
    """
    import torch
    from torch.nn import functional

    images = _check_images(images, "images")
    if not resize and min(images.shape[-2:]) < MIN_SIZE:
        raise ValueError(f"Without resizing, images must be at least {MIN_SIZE}x{MIN_SIZE}, "
                         f"got {tuple(images.shape[-2:])}.")
    param = next(network.parameters())
    chunks = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            x = images[start : start + batch_size].to(device=param.device, dtype=param.dtype)
            if x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            if resize and tuple(x.shape[-2:]) != (INPUT_SIZE, INPUT_SIZE):
                x = functional.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
            x = 2 * x - 1
            for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                         "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                         "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
                x = getattr(network, name)(x)
            chunks.append(x.flatten(1).double().cpu())
    return torch.cat(chunks)


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased covariance (divided by N - 1, as numpy.cov) of features (N, D), in float64."""
    features = features.double()
    if features.dim() != 2 or features.shape[0] < 2:
        raise ValueError(f"Feature statistics need a (N >= 2, D) matrix, got {tuple(features.shape)}.")
    mean = features.mean(0)
    centred = features - mean
    return mean, centred.T @ centred / (features.shape[0] - 1)


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2): the squared 2-Wasserstein distance
    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``.

    ``tr((S1 S2)^(1/2))`` is computed as the sum of the square roots of the eigenvalues of the
    symmetric positive semi-definite ``S1^(1/2) S2 S1^(1/2)`` (same spectrum as S1 S2), in float64,
    which stays real and stable for the singular covariances of small sets.
    """
    import torch

    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.numel(), mu1.numel()):
        raise ValueError(f"Mismatched statistics: means {tuple(mu1.shape)}, {tuple(mu2.shape)}; "
                         f"covariances {tuple(sigma1.shape)}, {tuple(sigma2.shape)}.")
    sym1, sym2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2
    values, vectors = torch.linalg.eigh(sym1)
    root1 = vectors * values.clamp_min(0).sqrt() @ vectors.T
    middle = root1 @ sym2 @ root1
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    distance = (mu1 - mu2).square().sum() + torch.trace(sym1) + torch.trace(sym2) - 2 * trace_root
    return max(float(distance), 0.0)


def fid(real_images: torch.Tensor, fake_images: torch.Tensor, inception_weights: str | Path | nn.Module, *,
        batch_size: int = 50, device: str = "cpu", resize: bool = True) -> float:
    """FID between two sets of images (N, C, H, W) in [0, 1] (C = 1 or 3), each N >= 2.

    ``inception_weights`` is the path of the converted FID Inception safetensors file (see the
    module docstring), or a network from ``load_inception`` to reuse across calls. Without the
    file, or with another file, raises ``FIDUnavailableError``.
    """
    import torch
    from torch import nn

    _check_images(real_images, "real_images")
    _check_images(fake_images, "fake_images")
    network = inception_weights if isinstance(inception_weights, nn.Module) else load_inception(inception_weights)
    network = network.to(torch.device(device)).eval()
    real = inception_features(real_images, network, batch_size=batch_size, resize=resize)
    fake = inception_features(fake_images, network, batch_size=batch_size, resize=resize)
    return frechet_distance_of_features(real, fake)


def frechet_distance_of_features(features1: torch.Tensor, features2: torch.Tensor) -> float:
    """The Fréchet distance between the Gaussians fitted to two feature sets (N1, D) and (N2, D).

    With fewer samples than dimensions (N <= D) the covariances have rank < N, and with the centred
    features A, B: ``tr((S1 S2)^(1/2))`` = the sum of the singular values of ``A B^T`` divided by
    ``sqrt((N1 - 1)(N2 - 1))`` -- exact, and an N1 x N2 problem instead of a D x D one. Larger sets
    go through the covariances (``frechet_distance``).
    """
    import torch

    a, b = features1.double(), features2.double()
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1] or min(a.shape[0], b.shape[0]) < 2:
        raise ValueError(f"Need two (N >= 2, D) feature matrices of the same D, "
                         f"got {tuple(a.shape)}, {tuple(b.shape)}.")
    if max(a.shape[0], b.shape[0]) > a.shape[1]:
        return frechet_distance(*feature_statistics(a), *feature_statistics(b))
    mean_a, mean_b = a.mean(0), b.mean(0)
    centred_a, centred_b = a - mean_a, b - mean_b
    scale_a, scale_b = a.shape[0] - 1, b.shape[0] - 1
    trace_root = torch.linalg.svdvals(centred_a @ centred_b.T).sum() / (scale_a * scale_b) ** 0.5
    distance = ((mean_a - mean_b).square().sum() + centred_a.square().sum() / scale_a
                + centred_b.square().sum() / scale_b - 2 * trace_root)
    return max(float(distance), 0.0)
