"""Plugin discovery through real installed distributions and their ``aezoo`` entry points.

The test distributions are installed by pip into temporary folders (see
``tests/distributions_fixture.py``) and put on ``sys.path``; the registry finds them through
``importlib.metadata`` exactly as it finds any third-party plugin.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import pytest

from aezoo import CardData, DatasetSpec, Metric, ModelSpec, Recipe, hookimpl
from aezoo.errors import (
    DatasetUnavailableError,
    DuplicateDatasetError,
    DuplicateModelError,
    InvalidSpecError,
    ModelNotFoundError,
    PluginLoadError,
)
from aezoo.registry import IN_CODE, SLOW_PLUGIN_SECONDS, PluginWarning, Registry, set_registry
from tests import distributions_fixture
from tests.conftest import python_env
from tests.distributions_fixture import BADSPEC, BROKEN, DATACLASH, DUPLICATE, EXIT, SLOW, TINY, UNKNOWNHOOK

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
        return json.loads(subprocess.run(command, env=python_env(**env), capture_output=True, text=True,
                                         check=True).stdout)

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


def test_a_model_of_a_plugin_that_failed_to_load_names_that_plugin_not_no_model(installed):
    """Issue 7: the name the broken plugin's entry point carries is its model; the error says the
    plugin failed, with its error, instead of "No model named"."""
    installed(TINY, BROKEN)
    registry = Registry()
    with recording(), pytest.raises(ModelNotFoundError) as error:
        registry.get("broken")
    message = str(error.value)
    assert message.startswith("The plugin 'broken' (distribution 'aezoo-test-broken') that provides 'broken' failed")
    assert BROKEN_ERROR in message and "reinstall" in message and "No model named" not in message


def test_an_unknown_name_beside_a_broken_plugin_says_the_plugin_may_provide_it(installed):
    installed(TINY, BROKEN)
    with recording(), pytest.raises(ModelNotFoundError) as error:
        Registry().get("zzzz")
    message = str(error.value)
    assert message.startswith("No model named 'zzzz'.")
    assert "'broken' from 'aezoo-test-broken'" in message and BROKEN_ERROR in message and "may provide it" in message


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


def test_a_data_set_name_registered_twice_is_an_error_naming_both_distributions(installed):
    """Issue 7: the core's 'digits' and aezoo-test-dataclash's: neither is used, the lookup names both."""
    from aezoo.data import dataset_spec

    installed(DATACLASH)
    registry = Registry()
    set_registry(registry)
    with recording() as record:
        assert "digits" not in registry.datasets()
        assert "breast-cancer" in registry.datasets()  # the core's other data sets stay
        registry.datasets()
    (message,) = plugin_warnings(record)
    assert "Data set name 'digits' is registered by both 'aezoo' and 'aezoo-test-dataclash'" in message
    for lookup in (registry.dataset, dataset_spec):
        with pytest.raises(DuplicateDatasetError, match="'aezoo' and 'aezoo-test-dataclash'"):
            lookup("digits")
    with pytest.raises(DatasetUnavailableError, match="No data set named 'breast-cancr'. Did you mean 'breast-cancer'"):
        registry.dataset("breast-cancr")
    assert record_of(registry, DATACLASH).ok


def test_strict_mode_makes_a_data_set_name_clash_fatal(installed):
    installed(DATACLASH)
    with pytest.raises(DuplicateDatasetError, match="'digits'"):
        Registry(strict=True).datasets()


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


# -- hooks through pluggy -----------------------------------------------------------------------
UNKNOWN_HOOK = "it implements 'aezoo_register_model', a hook aezoo does not define"


def test_a_plugin_implementing_a_hook_aezoo_does_not_define_is_named_and_skipped(installed):
    """pluggy's check_pending after discovery: the misspelt hook is never called, the plugin's other
    hooks neither, and the other plugins stay."""
    installed(TINY, UNKNOWNHOOK)
    registry = Registry()
    with recording() as record:
        assert "tiny-ae" in [s.name for s in registry.models()]
        assert "unknownhook-table" not in registry.datasets()
    (message,) = plugin_warnings(record)
    assert "'unknownhook' from 'aezoo-test-unknownhook'" in message and UNKNOWN_HOOK in message
    broken = record_of(registry, UNKNOWNHOOK)
    assert not broken.ok and broken.error.startswith(UNKNOWN_HOOK)
    assert "aezoo's hooks: aezoo_register_datasets, aezoo_register_models" in broken.error


def test_a_hook_aezoo_does_not_define_is_fatal_in_strict_mode(installed):
    installed(TINY, UNKNOWNHOOK)
    registry = Registry(strict=True)
    for _ in range(2):  # stays fatal on the next lookup
        with pytest.raises(PluginLoadError, match="'aezoo-test-unknownhook'") as error:
            registry.get("tiny-ae")
        assert UNKNOWN_HOOK in str(error.value) and "AEZOO_STRICT_PLUGINS" in str(error.value)


def test_hooks_are_called_through_pluggy_one_plugin_at_a_time():
    """pluggy's own rules apply: an optional hook of another project is allowed (check_pending), and a
    hook is called with no arguments it does not declare; each plugin gets only its own results."""
    registry = Registry(autoload=False)
    registry.register(plugin("a", aezoo_register_models=lambda: [spec("a-ae")]), "a", distribution="aezoo-a")
    optional = plugin("b", aezoo_register_models=lambda: [spec("b-ae")])
    optional.aezoo_future_hook = hookimpl(optionalhook=True)(lambda: None)
    registry.register(optional, "b", distribution="aezoo-b")
    misspelt = plugin("c", aezoo_register_model=lambda: [spec("c-ae")])
    registry.register(misspelt, "c", distribution="aezoo-c")
    with recording() as record:
        assert [s.name for s in registry.models()] == ["a-ae", "b-ae"]
    assert {r.distribution: r.models for r in registry.plugins() if r.ok} == {
        "aezoo": (), "aezoo-a": ("a-ae",), "aezoo-b": ("b-ae",)}
    (message,) = plugin_warnings(record)
    assert "'c' from 'aezoo-c'" in message and UNKNOWN_HOOK in message


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


# -- a plugin that exits, is slow, or registers faulty specs (issue 10, item 8) -------------------
SCRIPT = Path(sysconfig.get_path("scripts")) / "aezoo"
EXIT_ERROR = "SystemExit: the plugin called sys.exit(3) while loading"


def script(*args: str, pythonpath: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in its own process, as a user would."""
    assert SCRIPT.is_file(), f"no console script at {SCRIPT}: is aezoo installed in this environment?"
    return subprocess.run(
        [str(SCRIPT), *args], env=python_env(PYTHONPATH=pythonpath, **env),
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_a_plugin_calling_sys_exit_at_import_is_contained_and_named(installed):
    installed(TINY, EXIT)
    registry = Registry()
    with recording() as record:
        assert registry.get("tiny-ae").distribution == TINY
        registry.models()
    (message,) = plugin_warnings(record)
    assert "'aezoo-test-exit'" in message and EXIT_ERROR in message
    broken = record_of(registry, EXIT)
    assert (broken.ok, broken.error) == (False, EXIT_ERROR)


def test_a_plugin_calling_sys_exit_is_fatal_only_in_strict_mode(installed):
    installed(EXIT)
    with pytest.raises(PluginLoadError, match="'aezoo-test-exit'.*sys.exit") as error:
        Registry(strict=True).models()
    assert isinstance(error.value.__cause__, SystemExit)


def _exit_hook() -> list[ModelSpec]:
    raise SystemExit(4)


def _interrupt_hook() -> list[ModelSpec]:
    raise KeyboardInterrupt


def test_a_hook_calling_sys_exit_is_contained_but_keyboard_interrupt_passes():
    registry = Registry(autoload=False)
    registry.register(plugin("exits", aezoo_register_models=_exit_hook), "exits", distribution="aezoo-exits")
    registry.register(plugin("good", aezoo_register_models=lambda: [spec("good-ae")]), "good")
    with pytest.warns(PluginWarning, match="aezoo-exits.*sys.exit"):
        assert [s.name for s in registry.models()] == ["good-ae"]
    interrupted = Registry(autoload=False)
    interrupted.register(plugin("stop", aezoo_register_models=_interrupt_hook), "stop")
    with pytest.raises(KeyboardInterrupt):
        interrupted.models()


def test_the_cli_survives_a_plugin_calling_sys_exit(installed):
    pythonpath = installed(TINY, EXIT)
    listed = script("list", pythonpath=pythonpath)
    assert listed.returncode == 0, listed.stderr
    assert "tiny-ae" in listed.stdout
    (line,) = listed.stderr.splitlines()
    assert line.startswith("warning: aezoo skipped plugin 'exit' from 'aezoo-test-exit'") and EXIT_ERROR in line
    shown = script("plugins", pythonpath=pythonpath)
    assert shown.returncode == 0, shown.stderr
    rows = [row.split() for row in shown.stdout.splitlines()]
    assert ["exit", EXIT, "0.0.1", "broken", *EXIT_ERROR.split()] in rows
    assert ["tiny", TINY, "1.0.0", "ok", "tiny-ae"] in rows


BAD_PARAMS = "Model spec 'bad-params-ae': field 'params' is 'many', not an integer >= 0."
BAD_TASK = "Model spec 'bad-task-ae': field 'task' is 'fly', not one of denoise, anomaly, reconstruct, generate."
BAD_KIND = "Data set spec 'bad-kind': field 'kind' is 'sounds', not one of images, tabular."


def test_faulty_specs_are_skipped_by_name_and_the_rest_still_register(installed):
    installed(TINY, BADSPEC)
    registry = Registry()
    with recording() as record:
        assert [s.name for s in registry.models("*-ae")] == ["good-ae", "tiny-ae"]
        registry.register(plugin("late", aezoo_register_models=lambda: [spec("late-ae")]), "late")
        assert "late-ae" in [s.name for s in registry.models()]  # collecting again does not warn again
    messages = plugin_warnings(record)
    assert len(messages) == 3
    for expected, what in ((BAD_PARAMS, "model 'bad-params-ae'"), (BAD_TASK, "model 'bad-task-ae'"),
                           (BAD_KIND, "data set 'bad-kind'")):
        (message,) = [m for m in messages if expected in m]
        assert message.startswith(f"aezoo skipped {what} from 'aezoo-test-badspec':")
    record_ = record_of(registry, BADSPEC)
    assert record_.ok and record_.models == ("good-ae",) and record_.datasets == ()
    assert [s.partition(":")[0] for s in record_.skipped] == ["bad-params-ae", "bad-task-ae", "bad-kind"]
    with pytest.raises(ModelNotFoundError):
        registry.get("bad-task-ae")


def test_faulty_specs_are_fatal_in_strict_mode(installed):
    installed(BADSPEC)
    with pytest.raises(InvalidSpecError, match="'aezoo-test-badspec'.*'bad-params-ae'.*AEZOO_STRICT_PLUGINS"):
        Registry(strict=True).models()


def test_list_info_and_plugins_work_beside_faulty_specs_on_the_command_line(installed):
    pythonpath = installed(TINY, BADSPEC)
    listed = script("list", pythonpath=pythonpath)
    assert listed.returncode == 0, listed.stderr
    names = [row.split()[0] for row in listed.stdout.splitlines()[1:]]
    assert "good-ae" in names and "tiny-ae" in names and not [n for n in names if n.startswith("bad-")]
    warned = listed.stderr.splitlines()
    assert len(warned) == 3 and all(w.startswith("warning: aezoo skipped") for w in warned)
    assert any(BAD_PARAMS in w for w in warned) and any(BAD_TASK in w for w in warned)
    info = script("info", "good-ae", pythonpath=pythonpath)
    assert info.returncode == 0, info.stderr
    assert "params: 10" in info.stdout
    shown = script("plugins", "--json", pythonpath=pythonpath)
    assert shown.returncode == 0, shown.stderr
    (bad,) = [r for r in json.loads(shown.stdout) if r["distribution"] == BADSPEC]
    assert bad["ok"] and bad["models"] == ["good-ae"]
    assert [s.partition(":")[0] for s in bad["skipped"]] == ["bad-params-ae", "bad-task-ae", "bad-kind"]
    table = script("plugins", pythonpath=pythonpath)
    (row,) = [r for r in table.stdout.splitlines() if BADSPEC in r]
    assert row.split()[:5] == ["badspec", BADSPEC, "0.0.1", "partial", "good-ae;"] and "params" in row


def test_a_slow_plugin_is_named_and_timed(installed):
    pythonpath = installed(TINY, SLOW)
    listed = script("list", pythonpath=pythonpath)
    assert listed.returncode == 0, listed.stderr
    assert "slow-ae" in listed.stdout
    (line,) = listed.stderr.splitlines()
    assert line.startswith("warning: aezoo plugin 'slow' from 'aezoo-test-slow' took 1.")
    assert f"over {SLOW_PLUGIN_SECONDS:g} s" in line and "aezoo plugins --timings" in line
    timed = script("plugins", "--timings", pythonpath=pythonpath)
    assert timed.returncode == 0, timed.stderr
    header, first, *rest = [row.split() for row in timed.stdout.splitlines()]
    assert header == ["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS", "SECONDS", "PROVIDES"]
    assert first[:4] == ["slow", SLOW, "0.0.1", "ok"] and first[5:] == ["slow", "slow-ae"]
    assert float(first[4]) >= 1.5
    (tiny_row,) = [r for r in rest if r[0] == "tiny"]
    assert float(tiny_row[4]) < SLOW_PLUGIN_SECONDS
    as_json = script("plugins", "--timings", "--json", pythonpath=pythonpath)
    records = {r["distribution"]: r for r in json.loads(as_json.stdout)}
    assert records[SLOW]["seconds"] >= 1.5 and records[TINY]["seconds"] < SLOW_PLUGIN_SECONDS
    plain = script("plugins", "--json", pythonpath=pythonpath)
    assert all("seconds" not in r for r in json.loads(plain.stdout))


# -- spec validation ------------------------------------------------------------------------------
BAD_FIELDS = [
    pytest.param({"params": "many"}, "'params' is 'many', not an integer >= 0", id="params-str"),
    pytest.param({"params": -1}, "'params' is -1", id="params-negative"),
    pytest.param({"params": True}, "'params' is True", id="params-bool"),
    pytest.param({"params": 1.5}, "'params' is 1.5", id="params-float"),
    pytest.param({"task": "fly"}, "'task' is 'fly', not one of", id="task"),
    pytest.param({"task": ["denoise"]}, "'task' is ['denoise']", id="task-list"),
    pytest.param({"family": ""}, "'family' is ''", id="family-empty"),
    pytest.param({"summary": None}, "'summary' is None", id="summary"),
    pytest.param({"config": [1]}, "'config' is [1]", id="config-list"),
    pytest.param({"config": {"x": float("nan")}}, "'config' is not plain JSON", id="config-nan"),
    pytest.param({"card": {"license": "mit"}}, "'card' is {'license': 'mit'}", id="card-dict"),
    pytest.param({"card": CardData(license=3)}, "'card.license' is 3", id="card-license"),
    pytest.param({"card": CardData(license="mit", metrics=(Metric("psnr", "high", "d", "s", "p"),))},
                 "'card.metrics.psnr.value' is 'high'", id="metric-value"),
    pytest.param({"recipe": "train it"}, "'recipe' is 'train it'", id="recipe-str"),
    pytest.param({"recipe": Recipe(step="m:S", dataset="digits", epochs=0, batch_size=8, lr=0.1)},
                 "'recipe.epochs' is 0", id="recipe-epochs"),
    pytest.param({"recipe": Recipe(step="m:S", dataset="digits", epochs=1, batch_size=8, lr=float("nan"))},
                 "'recipe.lr' is nan", id="recipe-lr"),
    pytest.param({"weights": "org/x"}, "'weights' is 'org/x'", id="weights"),
    pytest.param({"preprocessing": {"noise": "p=0.5"}}, "'preprocessing' has keys ['noise'] that aezoo does not read",
                 id="preprocessing-prose-key"),
    pytest.param({"preprocessing": {"image_size": "28"}}, "'preprocessing.image_size' is '28'", id="image-size"),
    pytest.param({"preprocessing": {"channels": 0}}, "'preprocessing.channels' is 0", id="channels"),
    pytest.param({"preprocessing": {"range": [1.0, 0.0]}}, "'preprocessing.range' is [1.0, 0.0]", id="range"),
    pytest.param({"preprocessing": {"features": ["a", "a"]}}, "'preprocessing.features' is ['a', 'a']",
                 id="features-twice"),
    pytest.param({"preprocessing": {"label": 3}}, "'preprocessing.label' is 3", id="label"),
    pytest.param({"preprocessing": {"notes": ["x"]}}, "'preprocessing.notes' is ['x']", id="notes"),
]


@pytest.mark.parametrize(("fields", "expected"), BAD_FIELDS)
def test_spec_fields_are_validated_by_type_and_allowed_value(fields, expected):
    base = dict(name="x-ae", summary="s", task="reconstruct", family="ae", builder="m:f", config={},
                card=CardData(license="mit"), params=0)
    with pytest.raises(InvalidSpecError, match="Model spec 'x-ae': field ") as error:
        ModelSpec(**{**base, **fields}).validate()
    assert expected in str(error.value)
    ModelSpec(**base).validate()


@pytest.mark.parametrize("name", [5, None, b"x-ae"])
def test_a_model_name_of_the_wrong_type_is_a_named_error_at_construction(name):
    with pytest.raises(InvalidSpecError, match="Model name"):
        spec(name)  # type: ignore[arg-type]


def test_every_preprocessing_key_validates_and_old_checkpoints_keep_their_prose_keys(tmp_path):
    """The typed keys pass; a checkpoint written before them (prose keys such as 'noise') still loads,
    its preprocessing read as it is: nothing reads the prose."""
    import shutil

    import torch

    import aezoo

    good = {"image_size": 28, "channels": 1, "range": [0.0, 1.0], "features": None, "label": None, "notes": "x"}
    ModelSpec(name="x-ae", summary="s", task="reconstruct", family="ae", builder="m:f", config={},
              card=CardData(license="mit"), params=0, preprocessing=good).validate()
    shipped = Path(__file__).resolve().parents[1] / "weights" / "fc-dae-mnist"
    folder = shutil.copytree(shipped, tmp_path / "fc-dae-mnist")
    model = aezoo.load(folder, device="cpu")
    assert model.aezoo.preprocessing["noise"] == "pixel masking, p=0.5"  # read, accepted, never used
    assert model.denoise(torch.rand(2, 28, 28)).shape == (2, 28, 28)


@pytest.mark.parametrize(("columns", "kind", "expected"), [
    (("a", 1), "tabular", "'columns' is ('a', 1), not a tuple of column names"),
    (("a",), "images", "'columns' is ('a',), not empty for a data set of images"),
])
def test_a_data_set_s_columns_are_names_of_a_table(columns, kind, expected):
    with pytest.raises(InvalidSpecError, match="Data set spec 'd'") as error:
        DatasetSpec("d", "s", kind, "m:f", "here", True, columns=columns).validate()
    assert expected in str(error.value)
    assert DatasetSpec("d", "s", "tabular", "m:f", "here", True, columns=("a", "b")).validate().columns == ("a", "b")


def test_every_installed_spec_validates():
    for model in Registry(strict=True).models():
        assert model.validate() is model
