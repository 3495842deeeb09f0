"""Face images. Loaders return float tensors (N, C, H, W) in [0, 1], resized to the model's
``image_size`` and ``channels`` (the checkpoint's preprocessing), so one code path serves the
shipped 32x32 grayscale models and CelebA-sized RGB ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import Splits, require
from .split import held_out_mask, split_text

if TYPE_CHECKING:
    import torch

LFW_FACES = 100  # skimage.data.lfw_subset(): the first 100 of its 200 patches are faces


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
    """Hold out index % 5 == 4 (a fifth), deterministically (``aezoo.data.split``)."""
    import torch
    from torch.utils.data import TensorDataset

    labels = torch.zeros(len(images), dtype=torch.long) if labels is None else labels
    test = held_out_mask(len(images))
    return Splits(
        train=TensorDataset(images[~test], labels[~test]),
        test=TensorDataset(images[test], labels[test]),
        name=name,
        description=description,
        split=split_text(f"{int((~test).sum())} images", f"{int(test.sum())} images"),
    )


def lfw_faces(image_size: int = 32, channels: int = 1) -> Splits:
    """The 100 real grayscale LFW faces (25x25) that scikit-image ships, resized to ``image_size``."""
    import torch

    skimage_data = require("skimage.data", "scikit-image", "lfw-faces")
    faces = torch.from_numpy(skimage_data.lfw_subset()[:LFW_FACES]).float().unsqueeze(1)
    images = fit_images(faces, image_size, channels)
    return split_by_index(
        images, "lfw-faces",
        f"the {LFW_FACES} real LFW faces shipped with scikit-image (grayscale 25x25, resized to "
        f"{image_size}x{image_size})",
    )


CELEBA_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CELEBA_DOWNLOAD_TIMEOUT_S = 30.0  # per socket operation while torchvision downloads, so a dead network fails


# The official CelebA partition, by image id (list_eval_partition.txt says the same by file name).
CELEBA_TRAIN_END = 162_771  # ids 1 .. 162,770 are training images
CELEBA_TEST_START = 182_638  # ids 182,638 .. 202,599 are test images; the ids between are validation
CELEBA_WIDTH = 178  # the aligned images are 178x218; the face square is 178x178, centred vertically


def celeba(
    path: str | None = None, image_size: int = 64, channels: int = 3, download: bool = True,
    crop: str | int = "square",
) -> Splits:
    """CelebA's aligned faces: each image cut to its centred face square (178x178 in a 178x218
    image, scaled in proportion for smaller copies), resized to ``image_size``, converted to
    ``channels``, split by the official partition of the image ids (the file names).

    ``path``: a folder holding img_align_celeba images, searched recursively, so a folder with
    copies of two sizes works; an id found twice is read from its largest copy. ``crop`` may be a
    side in pixels of the 178-wide original (PyTorch-VAE cuts 148), scaled like the image.
    Without ``path``, torchvision's CelebA downloads into ``$AEZOO_HOME/datasets/celeba``.
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
            f"Download img_align_celeba.zip from {CELEBA_URL}, unzip it and pass its folder: "
            "aezoo.data.load_dataset('celeba', path='.../img_align_celeba') or --data celeba:PATH; or, with a "
            "network, 'pip install gdown' and try again.",
        ) from exc
    return _celeba_folder(root / "celeba" / "img_align_celeba", image_size, channels, crop)


def celeba_partition(image_id: int) -> str:
    """"train", "validation" or "test" for a CelebA image id, as the official partition says."""
    if image_id < CELEBA_TRAIN_END:
        return "train"
    return "test" if image_id >= CELEBA_TEST_START else "validation"


def celeba_files(folder: Path) -> dict[int, Path]:
    """CelebA image files under ``folder`` by id (their file name); the largest copy of an id wins."""
    from ..errors import DatasetUnavailableError
    from .images import image_files

    if not folder.is_dir():
        raise DatasetUnavailableError(
            f"No CelebA folder at {folder}.",
            f"Pass path= the unzipped img_align_celeba folder (from {CELEBA_URL}).",
        )
    by_id: dict[int, Path] = {}
    for file in image_files(folder):
        if not file.stem.isdigit():
            raise DatasetUnavailableError(
                f"{file} is not a CelebA image: CelebA files are named by image id (e.g. 000001.jpg).",
                "Pass the img_align_celeba folder itself, or use --data PATH (image-folder) for other images.",
            )
        image_id = int(file.stem)
        if image_id not in by_id or file.stat().st_size > by_id[image_id].stat().st_size:
            by_id[image_id] = file
    if not by_id:
        raise DatasetUnavailableError(
            f"The folder {folder} holds no images.",
            f"Pass path= the unzipped img_align_celeba folder (from {CELEBA_URL}).",
        )
    return dict(sorted(by_id.items()))


def _celeba_folder(folder: Path, image_size: int, channels: int, crop: str | int) -> Splits:
    import torch

    from .images import ByteImages, read_images

    files = celeba_files(folder)
    parts: dict[str, list[Path]] = {"train": [], "validation": [], "test": []}
    for image_id, file in files.items():
        parts[celeba_partition(image_id)].append(file)
    shape = f"{image_size}x{image_size}{' RGB' if channels == 3 else ' grayscale' if channels == 1 else ''}"
    cut = "the centred face square (178x178 of 178x218)" if crop == "square" else f"a centred {crop}x{crop} square"

    def read(chosen: list[Path]) -> ByteImages:
        pixels = read_images(chosen, image_size, channels, _crop_for(crop))
        return ByteImages(pixels, torch.zeros(len(chosen), dtype=torch.long))

    counts = {k: len(v) for k, v in parts.items()}
    return Splits(
        train=read(parts["train"]), test=read(parts["test"]), name="celeba",
        description=f"CelebA aligned faces ({len(files):,} images under {folder.name}/), {cut} resized to {shape}",
        split=(f"the official CelebA partition by image id: train {counts['train']:,} images (ids < "
               f"{CELEBA_TRAIN_END:,}), test {counts['test']:,} images (ids >= {CELEBA_TEST_START:,}); the "
               f"{counts['validation']:,} validation images are not used"),
        meta={"root": str(folder), "counts": counts},
    )


def _crop_for(crop: str | int) -> str | float:
    """An int crop is given in pixels of the 178-wide original: keep it as a share of the width."""
    return crop if isinstance(crop, str) else int(crop) / CELEBA_WIDTH


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    import socket

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
