"""The CelebA loader, on real JPEG files written with PIL and named like CelebA's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from aezoo.data import load_dataset
from aezoo.data.faces import CELEBA_TEST_START, CELEBA_TRAIN_END, celeba, celeba_partition
from aezoo.errors import DatasetUnavailableError


def banded_face(path: Path, width: int = 178, height: int = 218, value: int = 0, **save) -> Path:
    """White bands above and below a centred square of ``value``: only the square survives the face crop."""
    array = torch.full((height, width, 3), 255, dtype=torch.uint8)
    top = (height - width) // 2
    array[top : top + width] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.numpy()).save(path, **save)
    return path


def test_partition_follows_the_official_id_ranges():
    assert celeba_partition(1) == celeba_partition(CELEBA_TRAIN_END - 1) == "train"
    assert celeba_partition(CELEBA_TRAIN_END) == celeba_partition(CELEBA_TEST_START - 1) == "validation"
    assert celeba_partition(CELEBA_TEST_START) == celeba_partition(202_599) == "test"


def test_folder_is_split_by_image_id_and_cropped_to_the_face_square(tmp_path):
    ids = [1, 2, 162_770, 162_771, 182_637, 182_638, 202_599]
    for image_id in ids:
        banded_face(tmp_path / "img_align_celeba" / f"{image_id:06d}.jpg", quality=95)
    splits = load_dataset("celeba", path=str(tmp_path), image_size=16, channels=3)
    assert (len(splits.train), len(splits.test)) == (3, 2)
    assert splits.meta["counts"] == {"train": 3, "validation": 2, "test": 2}
    assert "official CelebA partition by image id" in splits.split and "2 validation" in splits.split
    face = splits.test[0][0]
    assert face.shape == (3, 16, 16) and float(face.max()) < 0.05  # the white bands were cut away


def test_two_sizes_in_one_folder_give_the_same_crop_and_the_largest_copy_wins(tmp_path):
    banded_face(tmp_path / "full" / "000001.jpg", value=40, quality=95)
    banded_face(tmp_path / "half" / "000002.jpg", width=89, height=109, value=40, quality=95)
    banded_face(tmp_path / "half" / "000001.jpg", width=89, height=109, value=200, quality=95)  # a smaller copy
    splits = celeba(str(tmp_path), image_size=8, channels=1)
    full, half = splits.train[0][0], splits.train[1][0]
    assert len(splits.train) == 2
    assert abs(float(full.mean()) - 40 / 255) < 0.03 and abs(float(half.mean()) - 40 / 255) < 0.03


def test_an_int_crop_scales_with_the_image(tmp_path):
    banded_face(tmp_path / "000001.jpg", quality=95)
    banded_face(tmp_path / "000002.jpg", width=89, height=109, quality=95)
    splits = celeba(str(tmp_path), image_size=8, channels=1, crop=148)
    assert all(float(splits.train[i][0].max()) < 0.05 for i in range(2))


def test_files_not_named_by_id_are_refused_by_name(tmp_path):
    banded_face(tmp_path / "000001.jpg")
    banded_face(tmp_path / "holiday.jpg")
    with pytest.raises(DatasetUnavailableError, match="holiday.jpg"):
        celeba(str(tmp_path))


@pytest.mark.parametrize("make", [lambda p: p / "no-such-folder", lambda p: p])
def test_missing_or_empty_folder(tmp_path, make):
    with pytest.raises(DatasetUnavailableError, match="img_align_celeba"):
        celeba(str(make(tmp_path)))


@pytest.mark.timeout(60)
def test_without_a_path_fails_fast_offline_and_says_how_to_get_it():
    started = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as caught:
        celeba()
    assert time.perf_counter() - started < 30
    message = str(caught.value)
    assert "path=" in message and "mmlab.ie.cuhk.edu.hk" in message
