"""Plugin discovery and model lookup.

Entry points in the group ``aezoo`` are discovered on first use, each loaded on its own: one
that fails (any exception, ``SystemExit`` included; only ``KeyboardInterrupt`` passes through) is
recorded as broken (with its error) and skipped with a one-line warning, unless
``AEZOO_STRICT_PLUGINS=1`` makes it fatal. Every spec a plugin returns is validated
(``ModelSpec.validate``); a faulty one is skipped with a warning naming it and its distribution,
and the plugin's other specs still register. A name (model or data set) that two distributions
register is an error naming both, never resolved to one of them; a name that no plugin registers
while a plugin failed to load says so, naming that plugin and its error. Each plugin's import and
hooks are timed (``aezoo plugins --timings``); one slower than ``SLOW_PLUGIN_SECONDS`` is named in a
warning. ``AEZOO_DISABLE_PLUGIN_AUTOLOAD=1`` (or ``Registry(autoload=False)``) turns discovery off;
plugins can then be registered in code.

Hooks are called through pluggy (``pm.hook``, its argument handling included), one plugin at a time
(``subset_hook_caller``), so that each plugin's failure and time stay its own. Before the first
collection pluggy's ``check_pending`` runs: a plugin implementing a hook aezoo does not define (a
misspelt name) is recorded as broken, naming the plugin and the hook, like a plugin that fails to load.
"""

from __future__ import annotations

import difflib
import fnmatch
import time
import warnings
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from .errors import (
    AezooError,
    DatasetUnavailableError,
    DuplicateDatasetError,
    DuplicateModelError,
    InvalidSpecError,
    ModelNotFoundError,
    PluginLoadError,
)
from .settings import SLOW_PLUGIN_SECONDS, env_flag
from .spec import DatasetSpec, ModelSpec

IN_CODE = "<registered in code>"
# A plugin whose import and hooks take longer than this (seconds) is named in a warning: every
# aezoo command that looks up a model pays for it.


class PluginWarning(UserWarning):
    """A plugin was skipped or a model name was claimed twice."""


@dataclass(frozen=True)
class PluginRecord:
    """What ``aezoo plugins`` shows: one entry point and what became of it."""

    name: str
    distribution: str
    version: str
    ok: bool
    error: str = ""
    models: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # "name: why" for each faulty spec that was left out
    seconds: float = 0.0  # time spent importing the entry point and calling its hooks


@dataclass
class _Collected:
    plugins: list[PluginRecord] = field(default_factory=list)
    models: dict[str, ModelSpec] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)  # model name -> the distributions claiming it
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    dataset_conflicts: dict[str, list[str]] = field(default_factory=dict)


class Registry:
    """Models and data sets from every installed plugin, discovered lazily."""

    def __init__(self, *, autoload: bool | None = None, strict: bool | None = None) -> None:
        self.autoload = not env_flag("AEZOO_DISABLE_PLUGIN_AUTOLOAD") if autoload is None else autoload
        self.strict = env_flag("AEZOO_STRICT_PLUGINS") if strict is None else strict
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._origins: dict[str, tuple[str, str, str]] = {}  # plugin name -> (ep name, dist, version)
        self._import_seconds: dict[str, float] = {}  # plugin name -> seconds its entry point took to import
        self._warned: set[tuple[str, ...]] = set()  # warnings already given: each is given once
        self._broken: list[PluginRecord] = []
        self._discovered = False
        self._collected: _Collected | None = None
        from .data import builtin

        self.register(builtin, "aezoo.data.builtin", distribution="aezoo")

    # -- registration -------------------------------------------------------------------------
    def register(self, plugin: object, name: str | None = None, *, distribution: str = IN_CODE) -> None:
        """Register a plugin object (usually a module) in code, as an entry point would."""
        plugin_name = self._pm.register(plugin, name=name)
        assert plugin_name is not None
        self._origins[plugin_name] = (name or plugin_name, distribution, "")
        self._collected = None

    def _discover(self) -> None:
        if self._discovered or not self.autoload:
            return
        for ep in sorted(entry_points(group=hookspecs.PROJECT), key=lambda e: e.name):
            dist, version = _distribution(ep)
            start = time.perf_counter()
            try:
                module = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                self._mark_broken(ep.name, dist, version, exc, seconds=time.perf_counter() - start)
                continue
            seconds = time.perf_counter() - start
            if self._pm.is_registered(module):
                continue
            try:
                self._pm.register(module, name=f"{dist}:{ep.name}")
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                self._mark_broken(ep.name, dist, version, exc, seconds=seconds)
                continue
            self._origins[f"{dist}:{ep.name}"] = (ep.name, dist, version)
            self._import_seconds[f"{dist}:{ep.name}"] = seconds
        # Only now: in strict mode a failing entry point raises above, and must raise again on the
        # next lookup rather than be skipped silently.
        self._discovered = True

    def _check_pending(self) -> None:
        """pluggy's ``check_pending``: a plugin implementing a hook aezoo does not define (a misspelt
        name, or a hook of a newer aezoo) is a broken plugin, named with the hooks, and unregistered;
        the other plugins stay."""
        while True:
            try:
                self._pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                plugin_name = self._pm.get_name(exc.plugin) or repr(exc.plugin)
                ep_name, dist, version = self._origins.get(plugin_name, (plugin_name, IN_CODE, ""))
                callers = {n: c for n, c in vars(self._pm.hook).items() if not n.startswith("_")}
                unknown = sorted(n for n, c in callers.items()
                                 if not c.has_spec() and any(i.plugin is exc.plugin for i in c.get_hookimpls()))
                known = sorted(n for n, c in callers.items() if c.has_spec())
                self._mark_broken(ep_name, dist, version, exc, seconds=self._import_seconds.get(plugin_name, 0.0),
                                  error=f"it implements {', '.join(map(repr, unknown))}, a hook aezoo does not "
                                        f"define (aezoo's hooks: {', '.join(known)})")
                self._pm.unregister(exc.plugin)  # after: in strict mode it stays, and fails the next lookup too

    def _mark_broken(self, name: str, dist: str, version: str, exc: BaseException, *, seconds: float = 0.0,
                     error: str | None = None) -> None:
        """Record a plugin that cannot be used (``error``: what is wrong with it, by default ``exc``
        described), with a warning; in strict mode a ``PluginLoadError`` naming it."""
        error = error or _describe(exc)
        if self.strict:
            raise PluginLoadError(
                f"Plugin {name!r} from distribution {dist!r} failed to load: {error}.",
                "Fix or uninstall that distribution (strict mode is on: AEZOO_STRICT_PLUGINS=1).",
            ) from exc
        warnings.warn(
            f"aezoo skipped plugin {name!r} from {dist!r} ({error}); run 'aezoo plugins' for details.",
            PluginWarning,
            stacklevel=4,
        )
        self._broken.append(PluginRecord(name, dist, version, ok=False, error=error, seconds=seconds))

    def _warn_slow(self, name: str, dist: str, seconds: float) -> None:
        if seconds <= SLOW_PLUGIN_SECONDS or ("slow", dist, name) in self._warned:
            return
        self._warned.add(("slow", dist, name))
        warnings.warn(
            f"aezoo plugin {name!r} from {dist!r} took {seconds:.1f} s to load (over {SLOW_PLUGIN_SECONDS:g} s), "
            "which every aezoo command pays; ask its author to import heavy modules lazily "
            "('aezoo plugins --timings' shows every plugin's time).",
            PluginWarning,
            stacklevel=5,
        )

    # -- collection ---------------------------------------------------------------------------
    def _collect(self) -> _Collected:
        if self._collected is not None:
            return self._collected
        self._discover()
        self._check_pending()
        collected = _Collected(plugins=list(self._broken))
        for plugin_name, plugin in self._pm.list_name_plugin():
            ep_name, dist, version = self._origins.get(plugin_name, (plugin_name, IN_CODE, ""))
            start = time.perf_counter()
            try:
                models = self._call(plugin, "aezoo_register_models", ModelSpec)
                datasets = self._call(plugin, "aezoo_register_datasets", DatasetSpec)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                self._mark_broken(ep_name, dist, version, exc)
                # Its record is kept in self._broken; unregistered, it is not called (and reported)
                # again when a later register() makes the registry collect anew.
                self._pm.unregister(plugin)
                collected.plugins.append(self._broken[-1])
                continue
            seconds = self._import_seconds.get(plugin_name, 0.0) + time.perf_counter() - start
            skipped: list[str] = []
            good_models = [s for s in (self._valid(s, dist, skipped) for s in models) if s is not None]
            good_datasets = [d for d in (self._valid(d, dist, skipped) for d in datasets) if d is not None]
            for spec in good_models:
                self._add(collected.models, collected.conflicts, spec, _duplicate_error)
            for ds in good_datasets:
                self._add(collected.datasets, collected.dataset_conflicts, ds, _duplicate_dataset_error)
            collected.plugins.append(
                PluginRecord(
                    ep_name, dist, version, ok=True,
                    models=tuple(s.name for s in good_models), datasets=tuple(d.name for d in good_datasets),
                    skipped=tuple(skipped), seconds=seconds,
                )
            )
            if plugin_name in self._import_seconds:  # discovered plugins only
                self._warn_slow(ep_name, dist, seconds)
        self._collected = collected
        return collected

    def _valid(self, spec: ModelSpec | DatasetSpec, dist: str, skipped: list[str]) -> ModelSpec | DatasetSpec | None:
        """The spec with its distribution filled in, or None (warned and noted) when a field is faulty."""
        try:
            return replace(spec, distribution=dist).validate()
        except InvalidSpecError as exc:
            kind = "model" if isinstance(spec, ModelSpec) else "data set"
            if self.strict:
                raise InvalidSpecError(
                    f"Distribution {dist!r} registers a faulty {kind} spec {spec.name!r}: {exc.what}",
                    "Fix or uninstall that distribution (strict mode is on: AEZOO_STRICT_PLUGINS=1).",
                ) from exc
            skipped.append(f"{spec.name}: {exc.what}")
            if ("spec", dist, kind, spec.name) in self._warned:
                return None
            self._warned.add(("spec", dist, kind, spec.name))
            warnings.warn(
                f"aezoo skipped {kind} {spec.name!r} from {dist!r}: {exc.what} "
                "Ask its author to fix the spec; the plugin's other models are still listed.",
                PluginWarning,
                stacklevel=5,
            )
            return None

    def _call(self, plugin: object, hook_name: str, kind: type | None) -> list[Any]:
        """``plugin``'s results of a hook, called through pluggy (its argument handling and checks)
        with that plugin alone, so that one plugin's failure and time are its own."""
        others = [p for p in self._pm.get_plugins() if p is not plugin]
        caller = self._pm.subset_hook_caller(hook_name, remove_plugins=others)
        results: list[Any] = [item for returned in caller() for item in (returned or [])]
        if kind is not None:
            for item in results:
                if not isinstance(item, kind):
                    raise InvalidSpecError(f"{hook_name} returned {item!r}, not a {kind.__name__}.", "")
        return results

    def _add(self, specs: dict[str, Any], conflicts: dict[str, list[str]], spec: Any, error_for: Any) -> None:
        """Register ``spec`` under its name; a name claimed twice is taken from ``specs`` and kept in
        ``conflicts`` with every distribution that claims it (warned once, fatal in strict mode)."""
        name = spec.name
        if name in conflicts:
            conflicts[name].append(spec.distribution)
            return
        if name in specs:
            first = specs.pop(name)
            conflicts[name] = [first.distribution, spec.distribution]
            error = error_for(name, conflicts[name])
            if self.strict:
                raise error
            warnings.warn(f"aezoo: {error}", PluginWarning, stacklevel=5)
            return
        specs[name] = spec

    def clean(self) -> bool:
        """Whether discovery had nothing to report: every plugin loaded, none slow, no spec skipped,
        no name claimed twice (``aezoo.registry_cache`` is written only then)."""
        collected = self._collect()
        return (all(p.ok and not p.skipped and p.seconds <= SLOW_PLUGIN_SECONDS for p in collected.plugins)
                and not collected.conflicts and not collected.dataset_conflicts)

    def packages(self) -> list[str]:
        """The top-level packages of the registered plugins (their modules, or their objects' classes)."""
        names = {getattr(plugin, "__name__", None) or type(plugin).__module__
                 for _, plugin in self._pm.list_name_plugin()}
        return sorted({name.partition(".")[0] for name in names})

    # -- lookup -------------------------------------------------------------------------------
    def plugins(self) -> list[PluginRecord]:
        return list(self._collect().plugins)

    def models(self, pattern: str | None = None) -> list[ModelSpec]:
        """Specs sorted by name; ``pattern`` is a shell wildcard such as ``conv-*``."""
        specs = sorted(self._collect().models.values(), key=lambda s: s.name)
        if pattern:
            specs = [s for s in specs if fnmatch.fnmatchcase(s.name, pattern)]
        return specs

    def get(self, name: str) -> ModelSpec:
        collected = self._collect()
        if name in collected.models:
            return collected.models[name]
        if name in collected.conflicts:
            raise _duplicate_error(name, collected.conflicts[name])
        broken = [p for p in collected.plugins if not p.ok]
        provider = [p for p in broken if name in _claimed_names(p)]
        if provider:
            plugin = provider[0]
            raise ModelNotFoundError(
                f"The plugin {plugin.name!r} (distribution {plugin.distribution!r}) that provides {name!r} failed to"
                f" load: {plugin.error}.",
                f"Fix or reinstall it (pip install --force-reinstall {plugin.distribution}); 'aezoo plugins' shows"
                " every plugin's state.",
            )
        hint = _suggest(name, list(collected.models), "aezoo list")
        if broken:
            failed = "; ".join(f"{p.name!r} from {p.distribution!r} ({p.error})" for p in broken)
            hint += f" These plugins failed to load and may provide it: {failed}; fix or reinstall them."
        raise ModelNotFoundError(f"No model named {name!r}.", hint)

    def datasets(self) -> dict[str, DatasetSpec]:
        """Data sets by name; a name two distributions register is left out (``dataset`` names both)."""
        return dict(self._collect().datasets)

    def dataset(self, name: str) -> DatasetSpec:
        collected = self._collect()
        if name in collected.datasets:
            return collected.datasets[name]
        if name in collected.dataset_conflicts:
            raise _duplicate_dataset_error(name, collected.dataset_conflicts[name])
        raise DatasetUnavailableError(
            f"No data set named {name!r}.", _suggest(name, list(collected.datasets), "aezoo datasets")
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit: the plugin called sys.exit({exc.code!r}) while loading"
    return f"{type(exc).__name__}: {exc}"


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ep.value.split(".")[0], ""
    return dist.metadata["Name"], dist.version


def _claimed_names(plugin: PluginRecord) -> set[str]:
    """The model names a plugin that failed to load is known to provide, before it could say: its
    entry point's name, and its distribution's name without the ``aezoo-`` prefix (the convention of
    the first-party plugins and the scaffold)."""
    names = {plugin.name, plugin.distribution}
    if plugin.distribution.startswith("aezoo-"):
        names.add(plugin.distribution[len("aezoo-"):])
    return names


def _clash(error: type[AezooError], kind: str, name: str, distributions: list[str]) -> AezooError:
    who = " and ".join(repr(d) for d in distributions)
    return error(
        f"{kind.capitalize()} name {name!r} is registered by both {who}.",
        f"Uninstall one of them, or ask its author to rename the {kind}.",
    )


def _duplicate_error(name: str, distributions: list[str]) -> AezooError:
    return _clash(DuplicateModelError, "model", name, distributions)


def _duplicate_dataset_error(name: str, distributions: list[str]) -> AezooError:
    return _clash(DuplicateDatasetError, "data set", name, distributions)


def _suggest(name: str, known: list[str], listing: str) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        return "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    return f"Run '{listing}' to see what is installed."


_default: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, created on first use."""
    global _default
    if _default is None:
        _default = Registry()
    return _default


def registry_in_use() -> Registry | None:
    """The process-wide registry if one was created or set, without creating one."""
    return _default


def set_registry(registry: Registry | None) -> Registry | None:
    """Replace the process-wide registry (tests, embedding); returns the previous one."""
    global _default
    previous, _default = _default, registry
    return previous
