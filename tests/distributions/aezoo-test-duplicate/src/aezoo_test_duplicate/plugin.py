from aezoo import CardData, ModelSpec, hookimpl


@hookimpl
def aezoo_register_models():
    return [
        ModelSpec(
            name="tiny-ae",
            summary="Claims the name aezoo-test-tiny already uses",
            task="reconstruct",
            family="ae",
            builder="aezoo_test_duplicate.plugin:nothing",
            config={},
            card=CardData(license="mit"),
            params=0,
        )
    ]
