"""The step contracts (aezoo.training.steps.contracts): every registered model fulfils the one its
recipe's step names, and a model that does not is a named error before anything trains."""

from __future__ import annotations

import pytest
import torch

import aezoo
from aezoo.api import import_object
from aezoo.errors import TrainingError
from aezoo.training.steps.contracts import missing_members
from aezoo.training.steps.gan import GANStep

SPECS = [spec for spec in aezoo.list_models() if spec.recipe is not None]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_model_fulfils_the_contract_of_its_recipes_step(spec):
    step = import_object(spec.recipe.step)
    model = aezoo.build(spec)
    if step.contract is None:  # reconstruction and denoising need only forward()
        assert isinstance(model, torch.nn.Module)
    else:
        assert missing_members(model, step.contract) == []


def test_a_model_without_the_members_is_refused_by_name():
    model = torch.nn.Linear(4, 4)
    with pytest.raises(TrainingError, match="Linear cannot be trained by GANStep: it lacks "
                                            "discriminate, discriminator, generator, nz, sample"):
        GANStep(model, aezoo.info("dcgan-faces").recipe, torch.device("cpu"))
