"""A data set named 'digits', as the core's own: neither may win silently."""

from aezoo import DatasetSpec, hookimpl


@hookimpl
def aezoo_register_datasets():
    return [
        DatasetSpec(name="digits", summary="another 'digits'", kind="tabular",
                    loader="aezoo_test_dataclash.plugin:nothing", source="this test distribution", offline=True),
    ]
