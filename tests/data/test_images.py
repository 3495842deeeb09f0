"""The image-folder loader, on real PNG and JPEG files written with PIL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from aezoo.data import load_dataset
from aezoo.data.images import image_folder
from aezoo.errors import DatasetUnavailableError


def solid(path: Path, color, size=(40, 30), mode="RGB", **save) -> Path:
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




# --- Fashion-MNIST: the idx files, read with numpy (small files written here, never the real set) ---

def write_idx(path: Path, array, *, gz: bool = False, code: int = 0x08) -> Path:
    """An idx file as the MNIST archives hold them: 0, 0, type code, ndim, big-endian dims, payload."""
    import gzip

    header = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def fashion_folder(folder: Path, *, n_train: int = 6, n_test: int = 4, gz: bool = True) -> Path:
    """Four idx files: image i is filled with the value i (train) or 100 + i (test); label = i % 10."""
    import numpy

    suffix = ".gz" if gz else ""
    for split, n, base in (("train", n_train, 0), ("t10k", n_test, 100)):
        images = numpy.stack([numpy.full((28, 28), base + i, numpy.uint8) for i in range(n)])
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images, gz=gz)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", numpy.arange(n, dtype=numpy.uint8) % 10, gz=gz)
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_reads_the_official_split_from_idx_files(tmp_path, gz):
    folder = fashion_folder(tmp_path / "fm", gz=gz)
    splits = load_dataset("fashion-mnist", path=str(folder))
    assert splits.name == "fashion-mnist"
    assert (len(splits.train), len(splits.test)) == (6, 4)
    assert "official split" in splits.split and "MIT" in splits.description
    image, label = splits.test[3]
    assert image.dtype == torch.float32 and image.shape == (1, 28, 28)
    assert torch.all(image == 103 / 255) and int(label) == 3
    assert torch.all(splits.train[5][0] == 5 / 255)


def test_fashion_mnist_finds_torchvisions_layout_under_root(tmp_path):
    fashion_folder(tmp_path / "FashionMNIST" / "raw", n_train=3, n_test=2, gz=False)
    splits = load_dataset("fashion-mnist", root=str(tmp_path))
    assert (len(splits.train), len(splits.test)) == (3, 2)


def test_read_idx_keeps_other_element_types(tmp_path):
    import numpy

    from aezoo.data.images import read_idx

    values = numpy.arange(12, dtype=numpy.int32).reshape(3, 4) - 5
    array = read_idx(write_idx(tmp_path / "ints-idx2", values, code=0x0C, gz=True))
    assert array.shape == (3, 4) and array.tolist() == values.tolist()


def _malformed(folder: Path, kind: str) -> tuple[Path, str]:
    """Damage one file of a good folder; return it and the words the error must contain."""
    import gzip

    target = folder / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(target.read_bytes())
    if kind == "truncated":
        target.write_bytes(gzip.compress(raw[:-7]))
        return target, "need 4,704 bytes of data, the file has 4,697"
    if kind == "magic":
        target.write_bytes(gzip.compress(b"\x12\x34" + raw[2:]))
        return target, "magic number"
    if kind == "dtype":
        target.write_bytes(gzip.compress(raw[:2] + b"\x07" + raw[3:]))
        return target, "unknown element type 0x07"
    if kind == "short-header":
        target.write_bytes(gzip.compress(raw[:9]))
        return target, "cut short"
    if kind == "bad-gzip":
        target.write_bytes(target.read_bytes()[:40])
        return target, "decompress"
    if kind == "labels-mismatch":
        import numpy

        label_file = folder / "train-labels-idx1-ubyte.gz"
        write_idx(label_file, numpy.zeros(5, numpy.uint8), gz=True)
        return label_file, "N byte images with N labels"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated", "magic", "dtype", "short-header", "bad-gzip", "labels-mismatch"])
def test_fashion_mnist_names_a_malformed_idx_file(tmp_path, kind):
    folder = fashion_folder(tmp_path / "fm")
    damaged, words = _malformed(folder, kind)
    with pytest.raises(DatasetUnavailableError) as caught:
        load_dataset("fashion-mnist", path=str(folder))
    message = str(caught.value)
    assert damaged.name in message and words in message


def test_fashion_mnist_names_the_missing_files(tmp_path):
    folder = fashion_folder(tmp_path / "fm")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetUnavailableError, match="t10k-labels-idx1-ubyte.*dataset-fashion-mnist"):
        load_dataset("fashion-mnist", path=str(folder))
    with pytest.raises(DatasetUnavailableError, match="No folder"):
        load_dataset("fashion-mnist", path=str(tmp_path / "absent"))


@pytest.mark.timeout(60)
def test_fashion_mnist_elsewhere_fails_fast_offline_and_says_how_to_get_it(tmp_path, monkeypatch):
    """No folder given, nothing at the Debian location, nothing cached: download=False says how to get
    the files; with download=True the attempt fails fast on this offline machine (or, online, succeeds)."""
    import aezoo.data.images as images

    monkeypatch.setattr(images, "FASHION_MNIST_SYSTEM_FOLDER", tmp_path / "no-debian-package")
    monkeypatch.setenv("AEZOO_HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetUnavailableError) as caught:
        images.fashion_mnist(download=False)
    assert "apt-get install dataset-fashion-mnist" in str(caught.value) and "path=" in str(caught.value)
    started = time.perf_counter()
    try:
        splits = images.fashion_mnist()
    except DatasetUnavailableError as exc:
        assert "dataset-fashion-mnist" in str(exc)
        assert time.perf_counter() - started < 45
    else:  # online: the real set was fetched into aezoo's cache
        assert (len(splits.train), len(splits.test)) == (60_000, 10_000)


def test_fashion_mnist_prefers_the_debian_location(tmp_path, monkeypatch):
    import aezoo.data.images as images

    monkeypatch.setattr(images, "FASHION_MNIST_SYSTEM_FOLDER", fashion_folder(tmp_path / "debian", n_train=2, n_test=1))
    splits = images.fashion_mnist(download=False)
    assert (len(splits.train), len(splits.test)) == (2, 1)


# -- image modes and decompression bombs (issue 10, item 11) ---------------------------------------
def _gray16(path: Path, mean: float = 0.49) -> Path:
    import numpy

    rng = numpy.random.default_rng(0)
    pixels = numpy.clip(rng.normal(mean, 0.1, (20, 20)), 0, 1)
    Image.fromarray((pixels * 65535).round().astype(numpy.uint16)).save(path)
    return path


def test_a_16_bit_png_is_scaled_by_65535_not_saturated(tmp_path):
    from aezoo.data.images import decode_image, read_images

    path = _gray16(tmp_path / "deep.png")
    assert Image.open(path).mode.startswith("I;16")
    pixels = decode_image(path)
    assert abs(float(pixels.mean()) - 0.49) < 0.02 and pixels.max() <= 1.0
    for batch in (read_images([path], 20, 1, as_float=True), read_images([path], 20, 1).float() / 255):
        assert batch.shape == (1, 1, 20, 20) and abs(float(batch.mean()) - 0.49) < 0.02


def test_other_modes_convert_or_are_refused_by_name(tmp_path):
    import numpy

    from aezoo.data.images import decode_image
    from aezoo.errors import ImageReadError

    palette = solid(tmp_path / "p.png", 3, mode="P")
    assert decode_image(palette).shape == (30, 40, 3)
    assert decode_image(solid(tmp_path / "one.png", 1, mode="1")).max() == 1.0
    assert decode_image(solid(tmp_path / "la.png", (128, 200), mode="LA")).shape == (30, 40)
    assert decode_image(solid(tmp_path / "rgba.png", (255, 0, 0, 10), mode="RGBA"))[0, 0].tolist() == [1.0, 0.0, 0.0]
    floats = tmp_path / "f.tiff"
    Image.fromarray(numpy.full((4, 4), 0.25, dtype=numpy.float32)).save(floats)
    assert float(decode_image(floats).mean()) == 0.25
    Image.fromarray(numpy.full((4, 4), 7.5, dtype=numpy.float32)).save(floats)
    with pytest.raises(ImageReadError, match=r"f\.tiff \(floating-point pixels outside \[0, 1\]"):
        decode_image(floats)
    wide = tmp_path / "i.tiff"
    Image.fromarray(numpy.full((4, 4), 70000, dtype=numpy.int32)).save(wide)
    with pytest.raises(ImageReadError, match="outside the 16-bit range"):
        decode_image(wide)


@pytest.mark.parametrize("side", [40, 50], ids=["over-the-warning-limit", "over-the-error-limit"])
def test_an_image_over_the_decompression_bomb_limit_is_a_named_error(tmp_path, monkeypatch, side):
    """Pillow's own limit, lowered to 1,000 pixels so that the test file stays small: between the
    limit and twice it Pillow only warns, beyond it raises; aezoo refuses both, naming the file."""
    from aezoo.data.images import read_images
    from aezoo.errors import ImageReadError

    path = solid(tmp_path / "bomb.png", 0, size=(side, side), mode="L")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    for read in (lambda: read_images([path], 8, 1), lambda: read_images([path], 8, 1, as_float=True)):
        with pytest.raises(ImageReadError, match="bomb.png.*decompression-bomb limit of 1000 pixels") as caught:
            read()
        assert isinstance(caught.value, DatasetUnavailableError) and "MAX_IMAGE_PIXELS" in caught.value.hint


def test_one_reader_gives_a_model_exact_floats_and_a_data_set_bytes(tmp_path):
    """The CLI's model input (as_float) and a data set's pixels come from one decode: the bytes are
    the floats rounded to 8 bits, and a 16-bit image keeps its precision as floats."""
    from aezoo.data.images import read_images

    path = _gray16(tmp_path / "deep.png")
    floats, pixels = read_images([path], 20, 1, as_float=True), read_images([path], 20, 1)
    assert floats.dtype == torch.float32 and pixels.dtype == torch.uint8
    assert torch.equal(floats.mul(255).round().to(torch.uint8), pixels)
    assert not torch.equal(floats, pixels.float() / 255)  # 16-bit levels are not rounded away
    empty = read_images([], 20, 3, as_float=True)
    assert empty.shape == (0, 3, 20, 20) and empty.dtype == torch.float32


def test_images_keep_their_own_size_without_an_image_size_and_must_share_it(tmp_path):
    from aezoo.data.images import read_images
    from aezoo.errors import ImageReadError

    a, b = solid(tmp_path / "a.png", 10, size=(12, 12), mode="L"), solid(tmp_path / "b.png", 200, size=(12, 12))
    assert read_images([a, b], None, 1).shape == (2, 1, 12, 12)
    with pytest.raises(ImageReadError, match=r"c\.png \(\(16, 16\) pixels, the first image \(12, 12\)\)"):
        read_images([a, solid(tmp_path / "c.png", 0, size=(16, 16), mode="L")], None, 1)
