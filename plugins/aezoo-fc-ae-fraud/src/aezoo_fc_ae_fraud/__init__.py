"""aezoo plugin: a fully-connected undercomplete autoencoder that detects anomalies (fraud) in tables.

``FraudDetector`` (the scikit-learn outlier detector) is imported on first use: the plugin's entry
point imports this package, and listing models must not import torch or scikit-learn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FraudDetector"]


def __getattr__(name: str) -> Any:
    if name == "FraudDetector":
        from aezoo.data import require

        require("sklearn", "scikit-learn", "FraudDetector")  # a named error with the install line when absent
        from .detector import FraudDetector

        return FraudDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
