"""A plugin whose import takes 1.5 s (as one importing torch or a big library at top level would)."""

import time

from aezoo import CardData, ModelSpec, hookimpl

time.sleep(1.5)


@hookimpl
def aezoo_register_models():
    return [
        ModelSpec(name="slow-ae", summary="Registered by a slow plugin", task="reconstruct", family="ae",
                  builder="aezoo_test_slow.plugin:nothing", config={}, card=CardData(license="mit"), params=0)
    ]
