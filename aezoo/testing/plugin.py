"""The conformance kit's pytest plugin, registered by aezoo's ``pytest11`` entry point.

- ``aezoo_model_name``: a test that takes it runs once per model of the distribution whose
  ``pyproject.toml`` holds the test file (``[project] name``), or once per name given with
  ``@pytest.mark.aezoo_models("a", "b")``.
- ``aezoo_offline``: the test runs with huggingface_hub offline and every connection refused
  (``aezoo.testing.offline``).

pytest loads this module when it starts, in every project of an environment where aezoo is
installed: it imports neither torch nor huggingface_hub, and looks models up only for a test
that asks for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "aezoo_models(*names): the models aezoo_model_name runs over (default: those of the "
        "distribution whose pyproject.toml holds the test file)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "aezoo_model_name" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("aezoo_models")
    names = list(marker.args) if marker else models_of_project(Path(metafunc.definition.path))
    metafunc.parametrize("aezoo_model_name", names)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def models_of_project(path: Path) -> list[str]:
    """The models registered by the distribution whose pyproject.toml is nearest above ``path``."""
    import tomllib

    from .. import list_models
    from .checks import ConformanceError

    for folder in Path(path).resolve().parents:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
            if project:
                break
    else:
        raise ConformanceError(f"No pyproject.toml with a [project] name above {path}.",
                               'Name the models instead: @pytest.mark.aezoo_models("my-model").')
    names = [spec.name for spec in list_models() if _normalized(spec.distribution) == _normalized(project)]
    if not names:
        raise ConformanceError(f"The distribution {project!r} ({pyproject}) registers no models here.",
                               "Install it (pip install -e .) and check its 'aezoo' entry point (aezoo plugins).")
    return names


@pytest.fixture
def aezoo_offline() -> Iterator[None]:
    """Run the test offline: huggingface_hub reads its cache only, and any connection is refused."""
    from .network import offline

    with offline():
        yield
