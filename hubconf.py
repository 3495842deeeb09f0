"""torch.hub entry points: ``torch.hub.load("<this repository>", "fc_dae_mnist")`` is
``aezoo.load("fc-dae-mnist")`` (verified safetensors weights, eval mode), for every installed model
(dashes become underscores). torch.hub only reads this file: aezoo and the plugins that register
the models must be installed (``pip install aezoo aezoo-fc-dae-mnist ...``)."""

from collections.abc import Callable
from typing import Any

import aezoo

dependencies = ["torch", "aezoo"]


def _entry(name: str) -> Callable[..., Any]:
    def load(pretrained: bool = True, **kwargs: Any) -> Any:
        return aezoo.load(name, pretrained=pretrained, **kwargs)

    spec = aezoo.info(name)
    load.__name__ = load.__qualname__ = name.replace("-", "_")
    load.__doc__ = f"{spec.summary}. Keyword arguments go to aezoo.load('{name}', ...)."
    return load


for _spec in aezoo.list_models():
    globals()[_spec.name.replace("-", "_")] = _entry(_spec.name)
