"""The image-folder and CelebA loaders, on real PNG and JPEG files written with PIL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from aezoo.data import load_dataset
from aezoo.data.faces import celeba
from aezoo.data.images import image_folder
from aezoo.errors import DatasetUnavailableError


def solid(path: Path, color, size=(40, 30), mode="RGB", **save) -> Path:  # noqa: ANN001
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, **save)
    return path


def banded_face(path: Path, width: int = 178, height: int = 218, **save) -> Path:
    """White bands above and below a black centred square: only the square survives a square crop."""
    array = torch.full((height, width, 3), 255, dtype=torch.uint8)
    top = (height - width) // 2
    array[top : top + width] = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.numpy()).save(path, **save)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Ten images: six RGB PNGs at the top, four grayscale JPEGs in a subfolder, plus files to skip."""
    root = tmp_path / "pictures"
    for i in range(6):
        solid(root / f"a{i}.png", (40 * i, 0, 255 - 40 * i))
    for i in range(4):
        solid(root / "more" / f"b{i}.jpg", 60 * i, mode="L", quality=95)
    (root / "notes.txt").write_text("not an image")
    solid(root / ".hidden" / "skip.png", (1, 2, 3))
    return root


def test_image_folder_reads_png_and_jpeg_recursively_and_splits_by_index(folder):
    splits = image_folder(folder, image_size=16, channels=3)
    assert (len(splits.train), len(splits.test)) == (8, 2)
    assert splits.name == "image-folder" and "10 images" in splits.description
    image, label = splits.train[0]
    assert image.dtype == torch.float32 and image.shape == (3, 16, 16) and int(label) == 0
    # sorted files: a0..a5.png, more/b0..b3.jpg; index % 5 == 4 held out -> a4.png and more/b3.jpg
    held_out_png, held_out_jpeg = splits.test[0][0], splits.test[1][0]
    expected = torch.tensor([160, 0, 95]) / 255
    assert torch.allclose(held_out_png.mean((1, 2)), expected, atol=1 / 255)
    assert torch.allclose(held_out_jpeg, torch.full_like(held_out_jpeg, 180 / 255), atol=3 / 255)
    batch = next(iter(torch.utils.data.DataLoader(splits.train, batch_size=8)))
    assert batch[0].shape == (8, 3, 16, 16) and 0 <= float(batch[0].min()) and float(batch[0].max()) <= 1


def test_image_folder_converts_to_grayscale_like_fit_images(tmp_path):
    solid(tmp_path / "red.png", (255, 0, 0))
    splits = image_folder(tmp_path, image_size=8, channels=1)
    image = splits.train[0][0]
    assert image.shape == (1, 8, 8)
    assert torch.allclose(image, torch.full_like(image, 0.299), atol=1 / 255)


def test_image_folder_through_the_registry_with_a_centre_crop(tmp_path):
    banded_face(tmp_path / "face.png", width=30, height=50)
    stretched = load_dataset("image-folder", path=str(tmp_path), image_size=10, channels=1).train[0][0]
    cropped = load_dataset("image-folder", path=str(tmp_path), image_size=10, channels=1, crop="square").train[0][0]
    assert float(stretched.max()) == 1.0  # the white bands are still there
    assert float(cropped.max()) == 0.0


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "nothing-here", "No folder of images"),
    (lambda root: (root / "empty").mkdir() or root / "empty", "holds no image files"),
])
def test_image_folder_missing_or_empty(tmp_path, make, message):
    with pytest.raises(DatasetUnavailableError, match=message):
        image_folder(make(tmp_path))


def test_image_folder_names_the_unreadable_file(folder):
    (folder / "more" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(DatasetUnavailableError, match=r"broken\.jpg"):
        image_folder(folder, image_size=8)


def test_image_folder_names_a_truncated_file(folder):
    good = (folder / "a0.png").read_bytes()
    (folder / "cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetUnavailableError, match=r"cut\.png"):
        image_folder(folder, image_size=8)


def test_celeba_folder_centre_crops_the_aligned_faces(tmp_path):
    images = tmp_path / "img_align_celeba"
    for i in range(5):
        banded_face(images / f"{i + 1:06d}.jpg", quality=95)
    splits = celeba(str(tmp_path))  # the folder above img_align_celeba works too
    assert splits.name == "celeba"
    assert (len(splits.train), len(splits.test)) == (4, 1)
    face = splits.test[0][0]
    assert face.shape == (3, 64, 64)
    assert float(face.max()) < 0.05  # only the black square is left: the white bands were cut away
    tight = celeba(str(images), image_size=32, channels=1, crop=148).train[0][0]
    assert tight.shape == (1, 32, 32) and float(tight.max()) < 0.05


def test_celeba_folder_uses_the_official_partition(tmp_path):
    images = tmp_path / "img_align_celeba"
    names = [f"{i + 1:06d}.jpg" for i in range(6)]
    for name in names:
        banded_face(images / name, quality=90)
    partitions = [0, 0, 0, 1, 2, 2]
    (tmp_path / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, partitions)))
    splits = load_dataset("celeba", path=str(images), image_size=16, channels=3)
    assert (len(splits.train), len(splits.test)) == (3, 2)
    assert "official split" in splits.split


def test_celeba_folder_missing(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="img_align_celeba"):
        celeba(str(tmp_path / "no-such-folder"))


@pytest.mark.timeout(60)
def test_celeba_without_a_path_fails_fast_offline_and_says_how_to_get_it():
    started = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as caught:
        celeba()
    assert time.perf_counter() - started < 30
    message = str(caught.value)
    assert "path=" in message and "mmlab.ie.cuhk.edu.hk" in message
