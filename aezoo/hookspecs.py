"""Every hook a plugin can implement: the plugin author's reference.

A plugin is a module exposed through an entry point in the group ``aezoo``::

    [project.entry-points.aezoo]
    my-model = "my_package.plugin"

aezoo loads each entry point on its own, the first time a model is looked up. The module
implements hooks with ``@aezoo.hookimpl``. Keep that module free of torch imports: refer to the
architecture by an import string (``ModelSpec.builder``) so that ``aezoo list`` stays fast.

Hooks take keyword arguments only; a hook may declare fewer arguments than the spec offers, so
new arguments can be added without breaking existing plugins. aezoo calls them through pluggy, one
plugin at a time. An implementation of a hook this module does not define (a misspelt name) makes
the plugin broken, named in a warning and by ``aezoo plugins``; a plugin that implements a hook of a
newer aezoo marks it ``@aezoo.hookimpl(optionalhook=True)`` to keep working with older ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .spec import DatasetSpec, ModelSpec

PROJECT = "aezoo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def aezoo_register_models() -> list[ModelSpec]:  # type: ignore[empty-body]  # pluggy never runs a spec's body
    """Return the models this plugin provides, as ``aezoo.spec.ModelSpec`` records.

    Called once per process, when a model is first looked up. Each name must be unique across
    all installed distributions: a name registered twice is reported as an error naming both.
    Must not import torch: the spec refers to its builder as ``"package.module:function"``,
    and everything ``aezoo list`` / ``aezoo info`` show (summary, parameter count, metrics) is
    data in the spec.
    """


@hookspec
def aezoo_register_datasets() -> list[DatasetSpec]:  # type: ignore[empty-body]
    """Return the data sets this plugin provides, as ``aezoo.spec.DatasetSpec`` records.

    A data set is referred to by name in a model's ``Recipe.dataset`` and by users as
    ``aezoo.train(name, data="my-dataset")``. Its loader is an import string, imported only
    when the data is needed. A loader that cannot get its data on this machine raises
    ``aezoo.errors.DatasetUnavailableError`` saying how to get it.
    """
