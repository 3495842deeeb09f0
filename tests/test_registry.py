"""Plugin discovery through real installed distributions and their ``aezoo`` entry points.

The test distributions are installed by pip into temporary folders (see
``tests/distributions_fixture.py``) and put on ``sys.path``; the registry finds them through
``importlib.metadata`` exactly as it finds any third-party plugin.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version

import pytest

from aezoo import CardData, DatasetSpec, ModelSpec, hookimpl
from aezoo.errors import DuplicateModelError, ModelNotFoundError, PluginLoadError
from aezoo.registry import IN_CODE, PluginWarning, Registry
from tests import distributions_fixture
from tests.conftest import python_env
from tests.distributions_fixture import BROKEN, DUPLICATE, TINY

installed = distributions_fixture.installed  # the fixture: test distributions installed by pip

BROKEN_ERROR = "RuntimeError: this plugin is broken on purpose"


def spec(name: str) -> ModelSpec:
    return ModelSpec(
        name=name, summary=f"{name} for tests", task="reconstruct", family="ae",
        builder="aezoo_test_tiny.model:build", config={}, card=CardData(license="mit"), params=0,
    )


def plugin(name: str, **hooks: Callable[[], object]) -> types.ModuleType:
    """A plugin module made in code: each keyword is a hook implementation."""
    module = types.ModuleType(name)
    for hook, function in hooks.items():
        setattr(module, hook, hookimpl(function))
    return module


@contextmanager
def recording() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning, repeats included."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield record


def plugin_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, PluginWarning)]


def record_of(registry: Registry, distribution: str):
    (record,) = [r for r in registry.plugins() if r.distribution == distribution]
    return record


def loaded_test_plugins() -> list[str]:
    return sorted(m for m in sys.modules if m.startswith("aezoo_test_"))


# -- laziness -----------------------------------------------------------------------------------
LAZY = """
import json, sys
from importlib.metadata import entry_points
import aezoo, aezoo.cli
from aezoo.registry import Registry, get_registry
modules = sorted(ep.module for ep in entry_points(group="aezoo"))
loaded = lambda: [m for m in modules if m in sys.modules]
registries = [Registry(), get_registry()]
before = loaded()
names = [s.name for s in registries[0].models()]
print(json.dumps({"modules": modules, "before": before, "names": names, "after": loaded()}))
"""


def test_importing_aezoo_and_making_a_registry_loads_no_entry_point(installed):
    pythonpath = installed(TINY)
    out = subprocess.run(
        [sys.executable, "-c", LAZY], env=python_env(PYTHONPATH=pythonpath),
        capture_output=True, text=True, check=True,
    ).stdout
    result = json.loads(out)
    assert "aezoo_test_tiny.plugin" in result["modules"]
    assert result["before"] == []
    assert "tiny-ae" in result["names"]
    assert result["after"] == result["modules"]  # the first lookup loads them all


def test_registry_loads_entry_points_on_first_lookup_only(installed):
    installed(TINY)
    registry = Registry()
    assert loaded_test_plugins() == []
    registry.get("tiny-ae")
    assert loaded_test_plugins() == ["aezoo_test_tiny", "aezoo_test_tiny.plugin"]


# -- a good third-party plugin ------------------------------------------------------------------
def test_installed_plugin_model_is_found_with_its_distribution_and_version(installed):
    installed(TINY)
    registry = Registry()
    assert registry.get("tiny-ae").distribution == TINY
    assert "tiny-ae" in [s.name for s in registry.models()]
    record = record_of(registry, TINY)
    assert (record.name, record.version, record.ok, record.error, record.models) == (
        "tiny", version(TINY), True, "", ("tiny-ae",)
    )
    assert record.version == "1.0.0"


def test_first_party_plugin_is_discovered_through_its_entry_point_like_a_third_party():
    """aezoo-fc-dae-mnist, installed in this environment, comes only through its entry point:
    with autoload off it is gone, and nothing in the core names it."""
    code = (
        "import json; from aezoo.registry import Registry; r = Registry(strict=True);"
        "print(json.dumps({'records': [[p.name, p.distribution, p.version, p.ok, list(p.models)] for p in r.plugins()],"
        " 'from': [s.distribution for s in r.models('fc-dae-mnist')]}))"
    )

    def run(**env: str) -> dict:
        command = [sys.executable, "-c", code]
        return json.loads(subprocess.run(command, env=python_env(**env), capture_output=True, text=True, check=True).stdout)

    on = run()
    expected = ["fc-dae-mnist", "aezoo-fc-dae-mnist", version("aezoo-fc-dae-mnist"), True,
                ["fc-dae-mnist", "fc-dae-fashion-mnist"]]
    assert expected in on["records"]
    assert on["from"] == ["aezoo-fc-dae-mnist"]
    off = run(AEZOO_DISABLE_PLUGIN_AUTOLOAD="1")
    assert off["from"] == []
    assert [r[1] for r in off["records"]] == ["aezoo"]


# -- a plugin that fails to import --------------------------------------------------------------
def test_broken_plugin_is_skipped_with_one_warning_naming_its_distribution(installed):
    installed(TINY, BROKEN)
    registry = Registry()
    with recording() as record:
        assert registry.get("tiny-ae").distribution == TINY  # the good plugin still works
        registry.models()
        registry.plugins()
    (message,) = plugin_warnings(record)
    assert "'aezoo-test-broken'" in message and BROKEN_ERROR in message and "aezoo plugins" in message
    broken = record_of(registry, BROKEN)
    assert (broken.name, broken.version, broken.ok, broken.error, broken.models) == (
        "broken", "0.0.1", False, BROKEN_ERROR, ()
    )
    assert record_of(registry, TINY).ok


STRICT = [
    pytest.param({"AEZOO_STRICT_PLUGINS": "1"}, {}, id="env"),
    pytest.param({}, {"strict": True}, id="argument"),
    pytest.param({"AEZOO_STRICT_PLUGINS": "0"}, {"strict": True}, id="argument-over-env"),
]


@pytest.mark.parametrize(("env", "kwargs"), STRICT)
def test_strict_mode_makes_a_broken_plugin_fatal(installed, monkeypatch, env, kwargs):
    installed(TINY, BROKEN)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    registry = Registry(**kwargs)
    with recording() as record:
        for _ in range(2):  # stays fatal: a second lookup does not quietly skip the plugin
            with pytest.raises(PluginLoadError, match="'aezoo-test-broken'") as error:
                registry.get("tiny-ae")
            assert BROKEN_ERROR in str(error.value)
            assert isinstance(error.value.__cause__, RuntimeError)
    assert plugin_warnings(record) == []


def test_strict_argument_false_wins_over_the_environment(installed, monkeypatch):
    installed(BROKEN)
    monkeypatch.setenv("AEZOO_STRICT_PLUGINS", "1")
    with pytest.warns(PluginWarning, match="aezoo-test-broken"):
        assert not record_of(Registry(strict=False), BROKEN).ok


# -- two distributions claim one name -----------------------------------------------------------
def test_duplicate_name_is_an_error_naming_both_distributions(installed):
    installed(TINY, DUPLICATE)
    registry = Registry()
    with recording() as record:
        names = [s.name for s in registry.models()]
        registry.models()
    (message,) = plugin_warnings(record)
    assert "'tiny-ae'" in message and TINY in message and DUPLICATE in message
    assert "tiny-ae" not in names
    assert registry.models("tiny-*") == []
    with pytest.raises(DuplicateModelError) as error:
        registry.get("tiny-ae")
    assert TINY in str(error.value) and DUPLICATE in str(error.value)
    assert record_of(registry, TINY).ok and record_of(registry, DUPLICATE).ok


@pytest.mark.parametrize(("env", "kwargs"), STRICT)
def test_strict_mode_makes_a_duplicate_name_fatal(installed, monkeypatch, env, kwargs):
    installed(TINY, DUPLICATE)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    registry = Registry(**kwargs)
    with recording() as record:
        for lookup in (registry.models, registry.plugins):
            with pytest.raises(DuplicateModelError, match=f"{DUPLICATE}.*{TINY}|{TINY}.*{DUPLICATE}"):
                lookup()
    assert plugin_warnings(record) == []


# -- autoload off -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "kwargs"),
    [
        pytest.param({"AEZOO_DISABLE_PLUGIN_AUTOLOAD": "1"}, {}, id="env-1"),
        pytest.param({"AEZOO_DISABLE_PLUGIN_AUTOLOAD": " True "}, {}, id="env-true"),
        pytest.param({}, {"autoload": False}, id="argument"),
        pytest.param({"AEZOO_DISABLE_PLUGIN_AUTOLOAD": "0"}, {"autoload": False}, id="argument-over-env"),
    ],
)
def test_autoload_off_discovers_nothing_but_register_in_code_works(installed, monkeypatch, env, kwargs):
    installed(TINY, BROKEN, DUPLICATE)  # a broken plugin and a clash on the path: neither is touched
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    registry = Registry(**kwargs)
    with recording() as record:
        assert registry.models() == []
        assert [(r.name, r.distribution) for r in registry.plugins()] == [("aezoo.data.builtin", "aezoo")]
        assert loaded_test_plugins() == []

        from aezoo_test_tiny import plugin as tiny_plugin

        registry.register(tiny_plugin, "tiny", distribution=TINY)
        assert registry.get("tiny-ae").distribution == TINY
        registry.register(plugin("extra", aezoo_register_models=lambda: [spec("extra-ae")]))
        assert registry.get("extra-ae").distribution == IN_CODE
        assert [s.name for s in registry.models()] == ["extra-ae", "tiny-ae"]
    assert plugin_warnings(record) == []
    assert loaded_test_plugins() == ["aezoo_test_tiny", "aezoo_test_tiny.plugin"]


def test_autoload_argument_true_wins_over_the_environment(installed, monkeypatch):
    installed(TINY)
    monkeypatch.setenv("AEZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert Registry(autoload=True).get("tiny-ae").distribution == TINY


# -- a hook that returns junk or raises ---------------------------------------------------------
def _raise() -> list[ModelSpec]:
    raise ValueError("no specs today")


JUNK = [
    pytest.param(lambda: ["tiny-ae"], "InvalidSpecError", id="string"),
    pytest.param(lambda: [{"name": "tiny-ae"}], "InvalidSpecError", id="dict"),
    pytest.param(lambda: [spec("ok-ae"), None], "InvalidSpecError", id="spec-and-none"),
    pytest.param(
        lambda: [DatasetSpec(name="d", summary="", kind="images", loader="m:f", source="", offline=True)],
        "InvalidSpecError", id="dataset-spec",
    ),
    pytest.param(lambda: spec("ok-ae"), "TypeError", id="bare-spec-not-a-list"),
    pytest.param(_raise, "ValueError: no specs today", id="raises"),
]


@pytest.mark.parametrize(("hook", "error"), JUNK)
def test_hook_returning_a_non_model_spec_marks_the_plugin_broken(hook, error):
    registry = Registry(autoload=False)
    registry.register(plugin("junk", aezoo_register_models=hook), "junk", distribution="aezoo-junk")
    registry.register(plugin("good", aezoo_register_models=lambda: [spec("good-ae")]), "good")
    with recording() as record:
        assert [s.name for s in registry.models()] == ["good-ae"]  # nothing of the junk plugin, even valid specs
        registry.register(plugin("late", aezoo_register_models=lambda: [spec("late-ae")]), "late")
        assert [s.name for s in registry.models()] == ["good-ae", "late-ae"]  # collecting again
    (message,) = plugin_warnings(record)
    assert "'aezoo-junk'" in message and error in message
    junk = [r for r in registry.plugins() if r.distribution == "aezoo-junk"]
    assert len(junk) == 1 and not junk[0].ok and error in junk[0].error


@pytest.mark.parametrize(("hook", "error"), JUNK[:1] + JUNK[-1:])
def test_hook_returning_junk_is_fatal_in_strict_mode(hook, error):
    registry = Registry(autoload=False, strict=True)
    registry.register(plugin("junk", aezoo_register_models=hook), "junk", distribution="aezoo-junk")
    with pytest.raises(PluginLoadError, match="'aezoo-junk'") as raised:
        registry.models()
    assert error in str(raised.value)


# -- lookup -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("tiny-a", "Did you mean 'tiny-ae'?"),
        ("tiny_ae", "Did you mean 'tiny-ae'?"),
        ("tiny-ae-v2", "Did you mean 'tiny-ae'?"),
        ("zzzz", "Run 'aezoo list' to see what is installed."),
    ],
)
def test_unknown_name_suggests_close_matches(installed, name, hint):
    installed(TINY)
    with pytest.raises(ModelNotFoundError) as error:
        Registry().get(name)
    assert str(error.value) == f"No model named {name!r}. {hint}"
    assert isinstance(error.value, LookupError)


WILDCARD_NAMES = ["conv-ae-faces", "conv-vae-faces", "fc-ae-digits", "fc-dae-mnist", "vq-vae2"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (None, WILDCARD_NAMES),
        ("*", WILDCARD_NAMES),
        ("conv-*", ["conv-ae-faces", "conv-vae-faces"]),
        ("*-faces", ["conv-ae-faces", "conv-vae-faces"]),
        ("*vae*", ["conv-vae-faces", "vq-vae2"]),
        ("fc-?ae-*", ["fc-dae-mnist"]),
        ("[cv]*", ["conv-ae-faces", "conv-vae-faces", "vq-vae2"]),
        ("fc-ae-digits", ["fc-ae-digits"]),
        ("CONV-*", []),  # case-sensitive, like the names themselves
        ("conv", []),  # a pattern matches whole names
        ("nothing-*", []),
    ],
)
def test_wildcard_patterns(pattern, expected):
    registry = Registry(autoload=False)
    registry.register(plugin("many", aezoo_register_models=lambda: [spec(n) for n in reversed(WILDCARD_NAMES)]))
    assert [s.name for s in registry.models(pattern)] == expected
