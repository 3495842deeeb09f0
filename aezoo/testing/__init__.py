"""The conformance kit: the checks every aezoo plugin should pass, for its own test suite.

It comes with aezoo as a pytest plugin (entry point ``pytest11``), so a plugin's tests need only::

    from aezoo import testing

    def test_conforms(aezoo_model_name):          # one test per model of this distribution
        testing.check_model(aezoo_model_name)

Each check is also usable alone (``check_spec``, ``check_builds``, ``check_task_api``,
``check_round_trip``, ``check_no_torch_on_listing``, ``check_package_data``, ``check_release``,
``check_weights_fit``, ``check_card``); all run offline and never write into a folder they are
given. aezoo runs the same checks over every installed model, first- and third-party.
"""

from .checks import (
    ConformanceError,
    ConformanceWarning,
    check_builds,
    check_card,
    check_model,
    check_no_torch_on_listing,
    check_package_data,
    check_release,
    check_round_trip,
    check_spec,
    check_task_api,
    check_weights_fit,
    published_folder,
)
from .network import NetworkUsedError, offline

__all__ = [
    "ConformanceError",
    "ConformanceWarning",
    "NetworkUsedError",
    "check_builds",
    "check_card",
    "check_model",
    "check_no_torch_on_listing",
    "check_package_data",
    "check_release",
    "check_round_trip",
    "check_spec",
    "check_task_api",
    "check_weights_fit",
    "offline",
    "published_folder",
]
