"""aezoo: a plugin-based zoo of autoencoders with pretrained, verified weights.

    >>> import aezoo
    >>> [s.name for s in aezoo.list_models("fc-*")]        # no torch imported
    >>> model = aezoo.load("fc-dae-mnist")                  # verified safetensors, eval mode

Importing aezoo is cheap: each public name is imported from its module when first used (PEP 562),
so ``import aezoo`` and ``aezoo --help`` load neither torch nor the hub client, and plugins that
``from aezoo import ModelSpec, hookimpl`` load only the spec types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module (relative to aezoo) that defines it
_EXPORTS = {
    **dict.fromkeys(("HubOptions", "ModelInfo", "build", "download", "info", "list_models", "load", "resolve"), "api"),
    "AezooError": "errors",
    "evaluate": "evaluation",
    "hookimpl": "hookspecs",
    **dict.fromkeys(("CardData", "DatasetSpec", "Metric", "ModelSpec", "Recipe", "Release", "WeightsFile",
                     "WeightsManifest"), "spec"),
    **dict.fromkeys(("train", "finetune"), "training"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'aezoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # what type checkers and IDEs see
    from .api import HubOptions, ModelInfo, build, download, info, list_models, load, resolve
    from .errors import AezooError
    from .evaluation import evaluate
    from .hookspecs import hookimpl
    from .spec import CardData, DatasetSpec, Metric, ModelSpec, Recipe, Release, WeightsFile, WeightsManifest
    from .training import finetune, train
