"""A misspelt hook name: pluggy accepts it at registration, check_pending refuses it."""

from aezoo import DatasetSpec, hookimpl


@hookimpl
def aezoo_register_model():
    raise AssertionError("aezoo must never call a hook it does not define")


@hookimpl
def aezoo_register_datasets():
    return [
        DatasetSpec(name="unknownhook-table", summary="never registered: its plugin is broken", kind="tabular",
                    loader="aezoo_test_unknownhook.plugin:nothing", source="this test distribution", offline=True),
    ]
