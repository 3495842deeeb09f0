"""What each family step needs of its model, as ``typing.Protocol`` classes.

The reconstruction and denoising steps need only ``forward(x)`` (the reconstruction, in the
input's shape). A third-party model is trained by a first-party step when it offers these members; a step checks
its contract when it is made (``TrainingStep.contract``), so a missing member is a named error
before the first batch rather than an AttributeError in the middle of an epoch. Only the members'
presence is checked (``missing_members``, not ``isinstance``: a property such as an unfitted
detector's ``threshold_`` raises when read); their signatures are in each step's docstring.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import torch


class VAEModel(Protocol):
    """``forward(images) -> (logits, mu, logvar, ...)``; ``posterior(images) -> (mu, logvar)``;
    ``decode_logits(z)``; ``sample(n, seed=)``; ``latent_dim``."""

    latent_dim: int

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor: ...

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor: ...


class AAEModel(Protocol):
    """``encoder``; ``forward`` (the reconstruction); ``discriminate(z)``; ``prior(n, generator)``;
    the parameter groups of the three phases; ``sample(n, seed=)``; ``latent_dim``."""

    latent_dim: int
    encoder: torch.nn.Module

    def discriminate(self, z: torch.Tensor) -> torch.Tensor: ...

    def prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...

    def autoencoder_parameters(self) -> Iterable[torch.nn.Parameter]: ...

    def discriminator_parameters(self) -> Iterable[torch.nn.Parameter]: ...

    def encoder_parameters(self) -> Iterable[torch.nn.Parameter]: ...

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor: ...


class GANModel(Protocol):
    """``generator`` (latent (N, nz, 1, 1) -> images in [-1, 1]); ``discriminator`` (images -> one
    logit each); ``discriminate(images in [0, 1])``; ``sample(n, seed=)``; ``nz``."""

    nz: int
    generator: torch.nn.Module
    discriminator: torch.nn.Module

    def discriminate(self, images: torch.Tensor) -> torch.Tensor: ...

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor: ...


class AnomalyModel(Protocol):
    """``forward(x) -> scores (N,)`` (differentiable); ``fit_scaler(normal_rows)``;
    ``set_threshold(training_scores)``; ``threshold_``. Optional: ``feature_names``,
    ``residuals(x)``, ``fit_error_scale(normal_rows)``."""

    def fit_scaler(self, x: torch.Tensor) -> None: ...

    def set_threshold(self, training_scores: Any) -> float: ...

    @property
    def threshold_(self) -> float: ...


if TYPE_CHECKING:
    # For type checkers only: a step's model is an ``nn.Module`` that also fulfils the step's contract. A step
    # annotates its ``model`` with one of these, so its members type-check where torch would type every
    # attribute set at run time as ``Tensor | Module``.
    class VAEModule(torch.nn.Module, VAEModel): ...

    class AAEModule(torch.nn.Module, AAEModel): ...

    class GANModule(torch.nn.Module, GANModel): ...

    class AnomalyModule(torch.nn.Module, AnomalyModel): ...


def missing_members(model: Any, contract: type) -> list[str]:
    """The members of ``contract`` that ``model`` lacks (empty when it fulfils it). Properties are
    looked up on the class, so an unfitted model's ``threshold_`` (which raises) still counts."""
    members = {name for name in dir(contract) if not name.startswith("_")} | set(contract.__annotations__)
    return sorted(name for name in members if not (hasattr(type(model), name) or hasattr(model, name)))
