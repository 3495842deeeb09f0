"""aezoo.modeling: the input checks and inference mode every image model's task API shares."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aezoo.modeling import image_batch, inference


class Gray(nn.Module):
    image_shape = (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(1)


def test_inference_is_eval_without_gradients_and_restores_the_mode():
    model = Gray().train()
    with inference(model):
        assert not model.training and not torch.is_grad_enabled()
    assert model.training and torch.is_grad_enabled()
    with pytest.raises(RuntimeError), inference(model):
        raise RuntimeError
    assert model.training


@pytest.mark.parametrize("shape, squeezed", [((2, 1, 8, 8), False), ((2, 8, 8), True)])
def test_image_batch_accepts_grayscale_with_or_without_a_channel_axis(shape, squeezed):
    batch, squeeze = image_batch(Gray(), torch.rand(shape, dtype=torch.float64), "encode")
    assert batch.shape == (2, 1, 8, 8) and batch.dtype == torch.float32 and squeeze is squeezed


@pytest.mark.parametrize("images, error, message", [
    (torch.rand(2, 3, 8, 8), ValueError, r"encode\(\) takes images shaped \(N, 1, 8, 8\) or \(N, 8, 8\)"),
    (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), TypeError, "float tensor"),
    ([[0.0]], TypeError, "float tensor"),
])
def test_image_batch_names_what_it_takes(images, error, message):
    with pytest.raises(error, match=message):
        image_batch(Gray(), images, "encode")


# -- NaN / inf and empty batches (issue 10, item 11) ----------------------------------------------
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_image_batch_refuses_non_finite_pixels_by_name(value):
    from aezoo.errors import InvalidInputError

    images = torch.rand(3, 1, 8, 8)
    images[1, 0, 2, 2] = value
    with pytest.raises(InvalidInputError, match=r"denoise\(\) was given 1 image\(s\) with NaN or infinite") as caught:
        image_batch(Gray(), images, "denoise")
    assert "torch.isfinite" in caught.value.hint


def test_image_batch_accepts_an_empty_batch():
    batch, squeeze = image_batch(Gray(), torch.empty(0, 8, 8), "encode")
    assert batch.shape == (0, 1, 8, 8) and squeeze


def test_image_batch_errors_are_named_and_keep_their_builtin_kind():
    from aezoo.errors import AezooError

    for images, kind in ((torch.rand(2, 3, 8, 8), ValueError), (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), TypeError)):
        with pytest.raises(AezooError) as caught:
            image_batch(Gray(), images, "encode")
        assert isinstance(caught.value, kind) and caught.value.hint


TASKS = ["denoise", "encode", "reconstruct", "decode", "sample"]


def _models():
    import aezoo

    return [spec.name for spec in aezoo.list_models() if spec.task in ("denoise", "generate")]


@pytest.mark.parametrize("name", _models())
def test_every_image_task_method_gives_an_empty_result_for_an_empty_batch_and_refuses_nan(name):
    import aezoo
    from aezoo.errors import InvalidInputError

    model = aezoo.load(name, pretrained=False, device="cpu")
    shape = getattr(model, "image_shape", None)
    called = []
    for method in TASKS:
        task = getattr(model, method, None)
        if task is None:
            continue
        if method == "sample":
            out = task(0)
        elif method == "decode":
            out = task(torch.zeros(0, model.latent_dim))
        else:
            out = task(torch.zeros(0, *shape))
            bad = torch.full((2, *shape), 0.5)
            bad[1, 0, 0, 0] = float("nan")
            with pytest.raises(InvalidInputError, match=f"{method}"):
                task(bad)
        assert out.shape[0] == 0
        called.append(method)
    assert called
