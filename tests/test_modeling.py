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
