"""A third-party plugin as a user would write it: specs only, no torch at import."""

from aezoo import CardData, ModelSpec, Recipe, hookimpl

TINY = ModelSpec(
    name="tiny-ae",
    summary="A 16-4-16 autoencoder for tests",
    task="reconstruct",
    family="ae",
    builder="aezoo_test_tiny.model:build",
    config={"features": 16, "latent": 4},
    card=CardData(license="mit"),
    params=16 * 4 + 4 + 4 * 16 + 16,
    recipe=Recipe(step="aezoo.training.steps.reconstruction:ReconstructionStep", dataset="digits", epochs=3,
                  batch_size=8, lr=1e-2, seed=0),
)


@hookimpl
def aezoo_register_models():
    return [TINY]
