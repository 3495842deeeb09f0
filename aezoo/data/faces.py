"""Face images. Loaders return float tensors (N, C, H, W) in [0, 1], resized to the model's
``image_size`` and ``channels`` (the checkpoint's preprocessing), so one code path serves the
shipped 32x32 grayscale models and CelebA-sized RGB ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import Splits, require

if TYPE_CHECKING:
    import torch

LFW_FACES = 100  # skimage.data.lfw_subset(): the first 100 of its 200 patches are faces
TEST_EVERY = 5  # index % 5 == 4 is held out, as for every aezoo data set without an official split


def fit_images(images: torch.Tensor, image_size: int, channels: int) -> torch.Tensor:
    """Resize (N, C, H, W) images to ``image_size`` and convert to ``channels`` (1 or 3)."""
    import torch
    from torch.nn import functional

    if images.shape[-1] != image_size or images.shape[-2] != image_size:
        images = functional.interpolate(images, size=(image_size, image_size), mode="bilinear", antialias=True,
                                        align_corners=False).clamp(0, 1)
    if images.shape[1] == channels:
        return images
    if images.shape[1] == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if images.shape[1] == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype).view(1, 3, 1, 1)
        return (images * weights).sum(1, keepdim=True)
    raise ValueError(f"Cannot convert {images.shape[1]}-channel images to {channels} channels.")


def split_by_index(images: torch.Tensor, name: str, description: str, labels: torch.Tensor | None = None) -> Splits:
    """Hold out index % 5 == 4 (a fifth), deterministically."""
    import torch
    from torch.utils.data import TensorDataset

    labels = torch.zeros(len(images), dtype=torch.long) if labels is None else labels
    test = torch.arange(len(images)) % TEST_EVERY == TEST_EVERY - 1
    return Splits(
        train=TensorDataset(images[~test], labels[~test]),
        test=TensorDataset(images[test], labels[test]),
        name=name,
        description=description,
        split=f"train: {int((~test).sum())} images (index % 5 != 4); test: {int(test.sum())} images (index % 5 == 4)",
    )


def lfw_faces(image_size: int = 32, channels: int = 1) -> Splits:
    """The 100 real grayscale LFW faces (25x25) that scikit-image ships, resized to ``image_size``."""
    import torch

    skimage_data = require("skimage.data", "scikit-image", "lfw-faces")
    faces = torch.from_numpy(skimage_data.lfw_subset()[:LFW_FACES]).float().unsqueeze(1)
    images = fit_images(faces, image_size, channels)
    return split_by_index(
        images, "lfw-faces",
        f"the {LFW_FACES} real LFW faces shipped with scikit-image (grayscale 25x25, resized to {image_size}x{image_size})",
    )


CELEBA_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CELEBA_DOWNLOAD_TIMEOUT_S = 30.0  # per socket operation while torchvision downloads, so a dead network fails


def celeba(
    path: str | None = None, image_size: int = 64, channels: int = 3, download: bool = True,
    crop: str | int = "square",
) -> Splits:
    """CelebA's aligned faces (178x218), centre-cropped to a square (``crop="square"``, the
    largest one: 178x178; or an int such as 148, as PyTorch-VAE cuts), then resized to
    ``image_size`` and converted to ``channels``.

    ``path``: a folder such as ``img_align_celeba/`` (or the folder above it). The official split
    (train = partition 0, test = partition 2) is used when ``list_eval_partition.txt`` lies in or
    next to it; otherwise index % 5 == 4 is held out. Without ``path``, torchvision's CelebA
    downloads into ``$AEZOO_HOME/datasets/celeba`` (Google Drive; needs a network and ``gdown``).
    """
    from ..errors import DatasetUnavailableError
    from ..settings import aezoo_home

    if path is not None:
        return _celeba_folder(Path(path).expanduser(), image_size, channels, crop)
    datasets = require("torchvision.datasets", "torchvision", "celeba")
    root = aezoo_home() / "datasets" / "celeba"
    try:
        with _socket_timeout(CELEBA_DOWNLOAD_TIMEOUT_S):
            datasets.CelebA(str(root), split="all", target_type=[], download=download)
    except Exception as exc:  # torchvision raises RuntimeError, gdown / urllib their own errors: all mean "not here"
        raise DatasetUnavailableError(
            f"CelebA is not in {root} and could not be downloaded through torchvision "
            f"({exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}).",
            f"Download img_align_celeba.zip (and Eval/list_eval_partition.txt) from {CELEBA_URL}, unzip it and pass "
            "its folder: aezoo.data.load_dataset('celeba', path='.../img_align_celeba'); or, with a network, "
            "'pip install gdown' and try again.",
        ) from exc
    return _celeba_folder(root / "celeba" / "img_align_celeba", image_size, channels, crop)


def _celeba_folder(folder: Path, image_size: int, channels: int, crop: str | int) -> Splits:
    import torch

    from ..errors import DatasetUnavailableError
    from .images import ByteImages, image_files, read_images

    if (folder / "img_align_celeba").is_dir():
        folder = folder / "img_align_celeba"
    if not folder.is_dir():
        raise DatasetUnavailableError(
            f"No CelebA folder at {folder}.",
            f"Pass path= the unzipped img_align_celeba folder (from {CELEBA_URL}).",
        )
    files = image_files(folder)
    if not files:
        raise DatasetUnavailableError(
            f"The folder {folder} holds no images.",
            f"Pass path= the unzipped img_align_celeba folder (from {CELEBA_URL}).",
        )
    shape = f"{image_size}x{image_size}{' RGB' if channels == 3 else ' grayscale' if channels == 1 else ''}"
    cut = "the largest centred square" if crop == "square" else f"a centred {crop}x{crop} square"
    description = f"CelebA aligned faces ({len(files):,} images from {folder.name}/), {cut} resized to {shape}"
    partition = _celeba_partition(folder)
    if partition is not None:
        train = [f for f in files if partition.get(f.name) == 0]
        test = [f for f in files if partition.get(f.name) == 2]
        if train and test:
            def part(chosen: list[Path]) -> ByteImages:
                labels = torch.zeros(len(chosen), dtype=torch.long)
                return ByteImages(read_images(chosen, image_size, channels, crop), labels)

            return Splits(
                train=part(train), test=part(test),
                name="celeba", description=description,
                split=f"the official split (list_eval_partition.txt): train {len(train):,} images (partition 0), "
                      f"test {len(test):,} images (partition 2); the validation partition is not used",
            )
    images = read_images(files, image_size, channels, crop)
    splits = split_by_index(images, "celeba", description, torch.zeros(len(files), dtype=torch.long))
    splits.train = ByteImages(*splits.train.tensors)
    splits.test = ByteImages(*splits.test.tensors)
    return splits


def _celeba_partition(folder: Path) -> dict[str, int] | None:
    """``list_eval_partition.txt`` (file name -> 0 train, 1 valid, 2 test) in or next to ``folder``."""
    for candidate in (folder / "list_eval_partition.txt", folder.parent / "list_eval_partition.txt",
                      folder.parent / "Eval" / "list_eval_partition.txt"):
        if candidate.is_file():
            rows = (line.split() for line in candidate.read_text(encoding="utf-8").splitlines())
            return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()}
    return None


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    import socket

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
