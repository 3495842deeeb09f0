"""Family steps plugged into the training engine; a recipe names its step by import string."""

from .base import TrainingStep, augment, batch_draw, evaluating, images_of, mask_pixels, own_randomness, random_shift
from .denoising import DenoisingStep

__all__ = ["DenoisingStep", "TrainingStep", "augment", "batch_draw", "evaluating", "images_of", "mask_pixels",
           "own_randomness", "random_shift"]
