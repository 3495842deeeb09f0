"""The ``aezoo`` command, run through click's CliRunner and, where the process itself matters
(tracebacks, warnings on stderr, what gets imported), as the installed console script.

Models come from the test distributions, installed for real (``tests/distributions_fixture.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import warnings
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import aezoo
from aezoo.cli import main
from aezoo.registry import PluginWarning
from tests import distributions_fixture
from tests.conftest import python_env
from tests.distributions_fixture import BROKEN, DUPLICATE, TINY

installed = distributions_fixture.installed  # the fixture: test distributions installed by pip

SCRIPT = Path(sysconfig.get_path("scripts")) / "aezoo"
BROKEN_ERROR = "RuntimeError: this plugin is broken on purpose"
NO_WEIGHTS = "Error: tiny-ae has no published weights. Train it instead: aezoo train tiny-ae."


@pytest.fixture(autouse=True)
def restore_warning_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command sets a one-line warnings format for its process; keep it out of other tests."""
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)


@pytest.fixture
def tiny(installed) -> str:
    return installed(TINY)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, prog_name="aezoo")


def script(*args: str, pythonpath: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script."""
    assert SCRIPT.is_file(), f"no console script at {SCRIPT}: is aezoo installed in this environment?"
    return subprocess.run(
        [str(SCRIPT), *args], env=python_env(PYTHONPATH=pythonpath, **env), capture_output=True, text=True,
                          timeout=120, check=False
    )


def spec_json(name: str) -> dict:
    return json.loads(json.dumps(aezoo.info(name).to_dict(), default=str))


# -- help and version ---------------------------------------------------------------------------
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command(flag):
    result = invoke(flag)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: aezoo")
    assert "AEZOO_DEBUG=1" in result.stdout
    commands = result.stdout.split("Commands:")[1].split()
    assert {"list", "info", "download", "plugins"} <= set(commands)
    assert result.stderr == ""


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"aezoo, version {version('aezoo')}\n"


# -- aezoo list ---------------------------------------------------------------------------------
def test_list_prints_a_table_on_stdout(tiny):
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAME", "TASK", "PARAMS", "WEIGHTS", "SUMMARY"]
    (row,) = [r for r in rows if r.startswith("tiny-ae ")]
    assert row.split(maxsplit=4) == ["tiny-ae", "reconstruct", "148", "no", "A 16-4-16 autoencoder for tests"]
    assert [r.split()[0] for r in rows] == [s.name for s in aezoo.list_models()]


@pytest.mark.parametrize(
    ("pattern", "names"), [("tiny-*", ["tiny-ae"]), ("*-a?", ["tiny-ae"]), ("t*y-ae", ["tiny-ae"]), ("TINY-*", [])]
)
def test_list_pattern(tiny, pattern, names):
    table = invoke("list", pattern)
    assert table.exit_code == 0
    assert [row.split()[0] for row in table.stdout.splitlines()[1:]] == names
    machine = invoke("list", pattern, "--json")
    assert machine.exit_code == 0
    assert [s["name"] for s in json.loads(machine.stdout)] == names


def test_list_with_no_match_says_so_on_stderr_and_prints_no_data(tiny):
    result = invoke("list", "nothing-*")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No model matches 'nothing-*'.\n")
    machine = invoke("list", "nothing-*", "--json")
    assert (machine.exit_code, json.loads(machine.stdout), machine.stderr) == (0, [], "")


def test_list_json_is_every_spec(tiny):
    result = invoke("list", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    specs = json.loads(result.stdout)
    assert [s["name"] for s in specs] == [s.name for s in aezoo.list_models()]
    (entry,) = [s for s in specs if s["name"] == "tiny-ae"]
    assert entry == spec_json("tiny-ae")
    assert entry["distribution"] == TINY


# -- aezoo info ---------------------------------------------------------------------------------
def test_info_shows_the_spec(tiny):
    result = invoke("info", "tiny-ae")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "tiny-ae: A 16-4-16 autoencoder for tests"
    assert f"  from: {TINY}   builder: aezoo_test_tiny.model:build" in lines
    assert "  config: {'features': 16, 'latent': 4}" in lines
    assert "  weights: none published" in lines
    assert any(line.startswith("  license: mit") for line in lines)


def test_info_json_is_the_spec(tiny):
    result = invoke("info", "tiny-ae", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data == spec_json("tiny-ae")
    assert (data["name"], data["distribution"], data["config"], data["weights"]) == (
        "tiny-ae", TINY, {"features": 16, "latent": 4}, None
    )


# -- failures -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["info", "tiny-a"], ["info", "tiny-a", "--json"], ["download", "tiny-a"]])
def test_unknown_name_is_one_line_with_a_suggestion(tiny, args):
    result = invoke(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: No model named 'tiny-a'. Did you mean 'tiny-ae'?\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info"], "Missing argument 'NAME'"),
        (["list", "a", "b"], "Got unexpected extra argument (b)"),
        (["list", "--bogus"], "--bogus"),
        (["nonsense"], "No such command 'nonsense'"),
        (["download"], "Give one or more model names, or --all."),
        (["download", "--json"], "Give one or more model names, or --all."),
        (["download", "tiny-ae", "--all"], "Give one or more model names, or --all."),
        (["download", "tiny-ae", "x-ae", "--revision", "v1"], "--revision names one repo's revision"),
    ],
)
def test_usage_errors_exit_2(tiny, args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: aezoo")
    error = result.stderr.splitlines()[-1]
    assert error.startswith("Error: ") and message in error


@pytest.mark.parametrize("args", [["download", "tiny-ae"], ["download", "tiny-ae", "--json"]])
def test_download_without_published_weights_is_one_line(tiny, args):
    result = invoke(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NO_WEIGHTS + "\n")


def test_download_of_several_reports_each_failure_on_stderr_and_data_on_stdout(tiny):
    result = invoke("download", "tiny-ae", "tiny-a")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: tiny-ae: tiny-ae has no published weights. Train it instead: aezoo train tiny-ae.",
        "error: tiny-a: No model named 'tiny-a'. Did you mean 'tiny-ae'?",
    ]
    machine = invoke("download", "tiny-ae", "tiny-a", "--json")
    assert machine.exit_code == 1
    listed = [(item["name"], "path" in item) for item in json.loads(machine.stdout)]
    assert listed == [("tiny-ae", False), ("tiny-a", False)]


def test_duplicate_name_is_a_one_line_error_naming_both_distributions(installed):
    installed(TINY, DUPLICATE)
    with pytest.warns(PluginWarning, match="registered by both"):
        result = invoke("info", "tiny-ae")
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: Model name 'tiny-ae' is registered by both") and TINY in line and DUPLICATE in line


def test_strict_mode_makes_a_broken_plugin_a_one_line_error(installed):
    installed(TINY, BROKEN)
    result = invoke("list", env={"AEZOO_STRICT_PLUGINS": "1"})
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: Plugin 'broken' from distribution 'aezoo-test-broken' failed to load")
    assert BROKEN_ERROR in line


def test_a_model_of_a_broken_plugin_is_a_one_line_error_naming_the_plugin(installed):
    installed(TINY, BROKEN)
    with pytest.warns(PluginWarning, match="aezoo-test-broken"):
        result = invoke("info", "broken")
    assert (result.exit_code, result.stdout) == (1, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: The plugin 'broken' (distribution 'aezoo-test-broken') that provides 'broken'")
    assert BROKEN_ERROR in line and "reinstall" in line


@pytest.mark.parametrize("command", ["download", "evaluate", "sample", "denoise", "score", "finetune"])
def test_every_command_that_takes_a_model_takes_the_hub_options(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    for option in ("--revision", "--cache-dir", "--local-files-only, --offline", "--token"):
        assert option in result.stdout, (command, option)


# -- aezoo plugins ------------------------------------------------------------------------------
def test_plugins_shows_the_broken_plugin_and_its_error(installed):
    installed(TINY, BROKEN)
    with pytest.warns(PluginWarning, match="aezoo-test-broken"):
        result = invoke("plugins")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS", "PROVIDES"]
    assert ["broken", BROKEN, "0.0.1", "broken", *BROKEN_ERROR.split()] in [row.split() for row in rows]
    assert ["tiny", TINY, "1.0.0", "ok", "tiny-ae"] in [row.split() for row in rows]


def test_plugins_json(installed):
    installed(TINY, BROKEN)
    with pytest.warns(PluginWarning, match="aezoo-test-broken"):
        result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.output
    records = {r["distribution"]: r for r in json.loads(result.stdout)}
    assert records[BROKEN] == {
        "name": "broken", "distribution": BROKEN, "version": "0.0.1", "ok": False, "error": BROKEN_ERROR,
        "models": [], "datasets": [],
    }
    assert (records[TINY]["ok"], records[TINY]["models"]) == (True, ["tiny-ae"])
    assert "mnist-5k" in records["aezoo"]["datasets"]


# -- the console script in its own process ------------------------------------------------------
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "AEZOO_DEBUG"])
def test_unknown_name_in_a_real_process(tiny, debug):
    env = {"AEZOO_DEBUG": "1"} if debug else {}
    result = script("info", "tiny-a", pythonpath=tiny, **env)
    assert result.returncode == 1
    assert result.stdout == ""
    if debug:
        assert result.stderr.startswith("Traceback (most recent call last):")
        assert result.stderr.splitlines()[-1] == (
            "aezoo.errors.ModelNotFoundError: No model named 'tiny-a'. Did you mean 'tiny-ae'?"
        )
    else:
        assert result.stderr == "Error: No model named 'tiny-a'. Did you mean 'tiny-ae'?\n"


def test_a_broken_plugin_is_a_one_line_warning_on_stderr_and_data_stays_on_stdout(installed):
    result = script("list", "--json", pythonpath=installed(TINY, BROKEN))
    assert result.returncode == 0, result.stderr
    assert "tiny-ae" in [s["name"] for s in json.loads(result.stdout)]
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: aezoo skipped plugin 'broken' from 'aezoo-test-broken'")
    assert BROKEN_ERROR in line


TORCH_PROBE = """
import atexit, runpy, sys
atexit.register(lambda: print("torch imported:", "torch" in sys.modules, file=sys.stderr))
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize("args", [["--help"], ["list"]], ids=["help", "list"])
def test_command_does_not_import_torch(tiny, args):
    """Runs the console script itself and looks at sys.modules when the process exits."""
    result = subprocess.run(
        [sys.executable, "-c", TORCH_PROBE, str(SCRIPT), *args],
        env=python_env(PYTHONPATH=tiny), capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "tiny-ae" in result.stdout or args == ["--help"]
    assert result.stderr.splitlines()[-1] == "torch imported: False"


def test_finetune_command_defaults_match_the_library():
    """The CLI states its finetune epochs in --help without importing the training code: they must agree."""
    import inspect

    from aezoo.cli.training import FINETUNE_EPOCHS

    assert inspect.signature(aezoo.finetune).parameters["epochs"].default == FINETUNE_EPOCHS


@pytest.mark.parametrize("words, cword, expected", [
    ("aezoo info fc-d", 2, ["fc-dae-fashion-mnist", "fc-dae-mnist"]),        # installed model names
    ("aezoo sample dcgan-faces --device c", 4, ["cpu", "cuda"]),            # devices
])
def test_shell_completion_completes_model_names_and_devices(words, cword, expected):
    """Through click's real completion protocol (what `eval "$(_AEZOO_COMPLETE=bash_source aezoo)"` installs)."""
    env = {**os.environ, "_AEZOO_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    done = subprocess.run([sys.executable, "-c", "from aezoo.cli import main; main(prog_name='aezoo')"],
                          capture_output=True, text=True, env=env, check=False)
    assert [line.split(",", 1)[1] for line in done.stdout.split()] == expected


@pytest.mark.parametrize("value, ok", [("auto", True), ("cpu", True), ("cuda:1", True), ("gpu", False),
                                       ("cuda:x", False)])
def test_device_is_a_checked_choice(value, ok):
    result = CliRunner().invoke(main, ["sample", "dcgan-faces", "--device", value, "-o", "x.txt"])
    if ok:  # past the device check: the next one (the .png suffix) speaks
        assert "must end in .png" in result.output
    else:
        assert result.exit_code == 2 and "is not a device" in result.output


def test_nproc_relaunches_the_command_with_exactly_the_options_given():
    """--nproc runs the same command under torchrun: every option given, flags only when given, no --nproc."""
    from aezoo.cli.training import _arguments, train_command

    ctx = train_command.make_context("train", ["tiny-ae", "--epochs", "2", "--overwrite", "--nproc", "2"])
    args = _arguments(ctx)
    assert args[:2] == ["train", "tiny-ae"] and "--nproc" not in args
    assert args[2:] == ["--epochs", "2", "--overwrite"]
    assert "--json" not in args and "--no-resume" not in args and "--force-resume" not in args
