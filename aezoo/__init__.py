"""aezoo: a plugin-based zoo of autoencoders with pretrained, verified weights.

    >>> import aezoo
    >>> [s.name for s in aezoo.list_models("fc-*")]        # no torch imported
    >>> model = aezoo.load("fc-dae-mnist")                  # verified safetensors, eval mode

Importing aezoo is cheap: torch is imported only by the functions that build or run models.
"""

from .api import HubOptions, ModelInfo, build, download, info, list_models, load, resolve
from .errors import AezooError
from .evaluate import evaluate
from .hookspecs import hookimpl
from .spec import CardData, DatasetSpec, Metric, ModelSpec, Recipe, Release, WeightsFile, WeightsManifest
from . import train  # callable: aezoo.train("name") trains; aezoo.train.engine etc. stay reachable
from .train import finetune

__version__ = "0.1.0"

__all__ = [
    "AezooError",
    "CardData",
    "DatasetSpec",
    "HubOptions",
    "Metric",
    "ModelInfo",
    "ModelSpec",
    "Recipe",
    "Release",
    "WeightsFile",
    "WeightsManifest",
    "build",
    "download",
    "evaluate",
    "finetune",
    "hookimpl",
    "info",
    "list_models",
    "load",
    "resolve",
    "train",
]
