"""``aezoo list``, ``aezoo info``, ``aezoo download``: finding models and their weights (no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import hub_options, json_option, model_argument
from .output import echo_json, echo_table, human_count

if TYPE_CHECKING:
    from ..spec import ModelSpec


@click.command("list")
@click.argument("pattern", required=False)
@json_option
def list_command(pattern: str | None, as_json: bool) -> None:
    """List installed models, optionally only those matching a wildcard PATTERN (e.g. 'conv-*')."""
    import fnmatch

    from ..registry_cache import installed_models  # not the registry: a cached listing imports no plugin

    specs = [s for s in installed_models() if not pattern or fnmatch.fnmatchcase(s["name"], pattern)]
    if as_json:
        echo_json(specs)
        return
    if not specs:
        click.echo(f"No model matches {pattern!r}." if pattern else "No models installed.", err=True)
        return
    echo_table(
        ["NAME", "TASK", "PARAMS", "WEIGHTS", "SUMMARY"],
        [[s["name"], s["task"], human_count(s["params"]), "yes" if s["weights"] else "no", s["summary"]]
         for s in specs],
    )


@click.command("info")
@model_argument()
@json_option
def info_command(name: str, as_json: bool) -> None:
    """Show a model's spec: config, recipe, pinned weights and measured metrics."""
    from ..registry import get_registry

    spec = get_registry().get(name)
    if as_json:
        echo_json(spec.to_dict())
        return
    _show(spec)


def _show(spec: ModelSpec) -> None:
    lines = [
        f"{spec.name}: {spec.summary}",
        f"  task: {spec.task}   family: {spec.family}   params: {spec.params:,}",
        f"  from: {spec.distribution}   builder: {spec.builder}",
        f"  config: {spec.config}",
    ]
    if spec.recipe:
        r = spec.recipe
        lines.append(f"  recipe: {r.step} on {r.dataset}, {r.epochs} epochs, batch {r.batch_size}, lr {r.lr}, "
                     f"seed {r.seed}")
    if spec.weights:
        w = spec.weights
        lines.append(f"  weights: hf://{w.repo_id}@{w.revision}")
        lines += [f"    {f.path}  {f.size:,} bytes  sha256 {f.sha256[:16]}..." for f in w.files]
    else:
        lines.append("  weights: none published")
    card = spec.card
    lines.append(f"  license: {card.license}   data sets: {', '.join(card.datasets) or '-'}")
    if card.training_data:
        lines.append(f"  trained on: {card.training_data}")
    for m in card.metrics:
        unit = f" {m.unit}" if m.unit else ""
        lines.append(f"  {m.name}: {m.value:.4g}{unit} on {m.dataset} {m.split} ({m.protocol})")
    click.echo("\n".join(lines))


@click.command("download")
@model_argument("names", nargs=-1)
@click.option("--all", "all_models", is_flag=True, help="Download every installed model with published weights.")
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each checkpoint, verified, as DIR/<repo name>/: a mirror folder for AEZOO_MIRRORS.")
@click.option("--overwrite", is_flag=True,
              help="With --to: replace a folder there that does not hold the pinned files.")
@click.option("--force", is_flag=True, help="Fetch and verify again even if cached.")
@json_option
@hub_options
def download_command(names: tuple[str, ...], all_models: bool, to: Path | None, overwrite: bool, force: bool,
                     as_json: bool, hub: dict) -> None:
    """Download (and verify) the weights of NAMES; prints each local folder (with --to, each mirror folder)."""
    from .. import api
    from ..errors import AezooError

    if bool(names) == all_models:
        raise click.UsageError("Give one or more model names, or --all.")
    if hub["revision"] is not None and (all_models or len(names) > 1):
        raise click.UsageError("--revision names one repo's revision: give a single model name.")
    chosen = [s.name for s in api.list_models() if s.weights] if all_models else list(names)
    results, failures = [], []
    for name in chosen:
        try:
            folder = api.download(name, force=force, to=to, overwrite=overwrite, **hub)
            results.append({"name": name, "path": str(folder)})
        except AezooError as exc:
            if len(chosen) == 1:
                raise
            failures.append({"name": name, "error": str(exc)})
    if as_json:
        echo_json(results + failures)
    else:
        for item in results:
            click.echo(item["path"])
        for item in failures:
            click.echo(f"error: {item['name']}: {item['error']}", err=True)
    if failures:
        raise click.exceptions.Exit(1)


COMMANDS = [list_command, info_command, download_command]
