"""Family steps plugged into the training engine; a recipe names its step by import string."""

from .base import TrainingStep, augment, images_of, mask_pixels, random_shift
from .denoising import DenoisingStep

__all__ = ["DenoisingStep", "TrainingStep", "augment", "images_of", "mask_pixels", "random_shift"]
