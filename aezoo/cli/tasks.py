"""``aezoo evaluate``, ``sample``, ``reconstruct``, ``denoise``, ``score``: models at their task (imports torch).

What they write: an input is never an output (compared by real path, so links count), an existing
file is replaced only with ``--overwrite``, and each output is written to a temporary name beside
it and moved into place, so a reader never sees half a file. All of this is checked before the
model is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InputIsOutputError, OutputExistsError, TaskNotSupportedError
from .options import device_option, hub_options, json_option, model_argument
from .output import echo_json

if TYPE_CHECKING:
    import torch

OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace output files that already exist.")


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _each_once(paths: Iterable[Path]) -> tuple[Path, ...]:
    """The paths in order, a file named twice (by any path) once."""
    unique: dict[str, Path] = {}
    for path in paths:
        unique.setdefault(_real(path), path)
    return tuple(unique.values())


def _check_outputs(outputs: Iterable[Path], inputs: Iterable[Path], overwrite: bool) -> None:
    """Refuse an output that is an input (even with --overwrite) or, without --overwrite, one that exists."""
    sources = {_real(p): p for p in inputs}
    outputs = list(outputs)
    for output in outputs:
        if _real(output) in sources:
            raise InputIsOutputError(
                f"The output {output} is the input {sources[_real(output)]}; aezoo never replaces an input.",
                "Write the output somewhere else (-o).",
            )
        if output.is_dir():
            raise OutputExistsError(f"The output {output} is a folder.", "Name a file for the output (-o).")
    existing = [str(o) for o in outputs if os.path.lexists(o)]
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise OutputExistsError(f"{shown} already exist{'s' if len(existing) == 1 else ''}.",
                                "Pass --overwrite to replace, or write somewhere else (-o).")


def _write(path: Path, writer: Callable[[Path], object], *, overwrite: bool) -> Path:
    """Write ``path`` through ``writer(temporary path)`` (same folder, same suffix) and move it into
    place; without ``overwrite`` a file that appeared meanwhile is not replaced."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, path)
            return path
        try:
            os.link(tmp, path)  # fails if path exists: no check-then-write race
        except FileExistsError:
            raise OutputExistsError(f"{path} appeared while aezoo was writing it.",
                                    "Pass --overwrite to replace it, or write somewhere else (-o).") from None
        except OSError:  # a file system without hard links
            if os.path.lexists(path):
                raise OutputExistsError(f"{path} appeared while aezoo was writing it.",
                                        "Pass --overwrite to replace it, or write somewhere else (-o).") from None
            os.replace(tmp, path)
        return path
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _load_for(name: str, method: str, device: str, hub: dict):
    from .. import load
    from ..api import model_info

    model = load(name, device=device, **hub)
    if not callable(getattr(model, method, None)):
        info = model_info(model)
        raise TaskNotSupportedError(
            f"{info.name} has no {method}() (its task is {info.spec.task}).",
            "Run 'aezoo list' to find a model for this task.",
        )
    return model


def _card_metrics(name: str, revision: str | None) -> dict:
    """The metrics a registered model's card states, by name; none for a folder, a hub repo or another
    revision than the pinned one (the same rules as ``aezoo.load``: a bare name is always the
    registered model). Checks the name or reference before any work."""
    from .. import hub, info
    from ..api import ref_kind

    kind = ref_kind(name)
    if kind == "hf":
        hub.parse_hub_ref(name, revision=revision)
    if kind != "name":
        return {}
    spec = info(name)
    if revision is not None and (spec.weights is None or revision != spec.weights.revision):
        return {}
    return {m.name: m for m in spec.card.metrics} if spec.card is not None else {}


@click.command("evaluate")
@model_argument()
@click.option("--data", help="A data set name or path (default: the card's data set and protocol).")
@device_option
@click.option("--inception", type=click.Path(dir_okay=False, path_type=Path),
              help="FID Inception weights (safetensors) to add FID for generative models.")
@json_option
@hub_options
def evaluate_command(name: str, data: str | None, device: str, inception: Path | None, as_json: bool,
                     hub: dict) -> None:
    """Re-measure NAME's metrics on the held-out split, beside the values its card states.

    \b
    Examples:
      aezoo evaluate fc-dae-mnist                      # the card's data set and protocol
      aezoo evaluate dcgan-faces --data celeba:~/data/img_align_celeba
    """
    import sys

    from ..evaluation import evaluate

    card = _card_metrics(name, hub["revision"])  # an unknown name or a bad reference fails here, before measuring
    if sys.stderr.isatty():  # measuring takes a while and prints nothing until it is done
        from ..api import resolve

        resolve(name, **hub)  # the weights first (verified, cached), so the hub's own messages come before
        where = "its card's held-out split" if data is None else data
        click.echo(f"aezoo: measuring {name} on {where}...", err=True)
    measured = evaluate(name, data=data, device=device, inception_weights=inception, **hub)
    if as_json:
        echo_json({k: {"measured": v, "card": card[k].value if k in card else None} for k, v in measured.items()})
        return
    for key, value in measured.items():
        stated = f"   (card: {card[key].value:.4g})" if key in card and data is None else ""
        click.echo(f"{key}: {value:.4g}{stated}")


@click.command("sample")
@model_argument()
@click.option("-n", "count", type=click.IntRange(1, 4096), default=64, show_default=True, help="Number of images.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="samples.png",
              show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="0 to 2^32-1.")
@device_option
@OVERWRITE
@json_option
@hub_options
def sample_command(name: str, count: int, output: Path, seed: int, device: str, overwrite: bool, as_json: bool,
                   hub: dict) -> None:
    """Draw -n samples from a generative model and save them as one PNG grid; prints its path.

    \b
    Example:
      aezoo sample dcgan-faces -n 16 --seed 3 -o faces.png
    """
    from ..images import save_grid

    if output.suffix.lower() != ".png":
        raise click.BadParameter(f"{output} must end in .png: the grid is a PNG image.", param_hint="-o")
    _check_outputs([output], [], overwrite)
    model = _load_for(name, "sample", device, hub)
    images = model.sample(count, seed=seed).cpu()
    written = _write(output, lambda tmp: save_grid(images, tmp), overwrite=overwrite)
    if as_json:
        echo_json({"output": str(written), "images": count, "seed": seed})
    else:
        click.echo(str(written))


@click.command("reconstruct")
@model_argument()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="reconstructions.png",
              show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the sample row (0 to 2^32-1).")
@device_option
@OVERWRITE
@json_option
@hub_options
def reconstruct_command(name: str, images: tuple[Path, ...], output: Path, seed: int, device: str, overwrite: bool,
                        as_json: bool, hub: dict) -> None:
    """Reconstruct IMAGES with NAME (a VAE or adversarial AE) and draw one labelled PNG grid: the real
    images, their reconstructions and, for a model that samples, as many samples; prints its path.

    \b
    Example:
      aezoo reconstruct conv-vae-faces me.jpg friend.jpg -o faces.png
    """
    from ..data.images import read_images
    from ..plots import plot_reconstructions

    if output.suffix.lower() != ".png":
        raise click.BadParameter(f"{output} must end in .png: the grid is a PNG image.", param_hint="-o")
    images = _each_once(images)
    _check_outputs([output], images, overwrite)
    model = _load_for(name, "reconstruct", device, hub)
    prep = model.aezoo.preprocessing
    batch = read_images(images, image_size=prep.get("image_size"), channels=prep.get("channels", 1), as_float=True)
    written = _write(output, lambda tmp: plot_reconstructions(model, batch, tmp, seed=seed), overwrite=overwrite)
    if as_json:
        echo_json({"output": str(written), "images": len(images), "seed": seed})
    else:
        click.echo(str(written))


@click.command("denoise")
@model_argument()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@device_option
@OVERWRITE
@json_option
@hub_options
def denoise_command(name: str, images: tuple[Path, ...], output: Path, device: str, overwrite: bool, as_json: bool,
                    hub: dict) -> None:
    """Denoise IMAGES with NAME; writes one PNG per image into -o (named after the image: a.jpg
    becomes a.png) and prints each path. Two images that would get one name are refused.

    \b
    Example:
      aezoo denoise fc-dae-mnist noisy/*.png -o clean/
    """
    from ..data.images import read_images
    from ..images import save_image

    if output.exists() and not output.is_dir():
        raise OutputExistsError(f"The output folder {output} is a file.", "Name a folder for the outputs (-o).")
    images = _each_once(images)
    targets: dict[Path, Path] = {}
    for path in images:
        target = output / f"{path.stem}.png"
        if target in targets:
            raise InputIsOutputError(
                f"{targets[target]} and {path} would both be written to {target}.",
                "Denoise images with the same name into separate folders (-o), or rename one.",
            )
        targets[target] = path
    _check_outputs(targets, images, overwrite)
    model = _load_for(name, "denoise", device, hub)
    prep = model.aezoo.preprocessing
    batch = read_images(images, image_size=prep.get("image_size"), channels=prep.get("channels", 1), as_float=True)
    written = []
    for (target, source), restored in zip(targets.items(), model.denoise(batch).cpu(), strict=True):
        def write(tmp: Path, image: torch.Tensor = restored) -> None:
            save_image(image, tmp)

        path = _write(target, write, overwrite=overwrite)
        written.append({"input": str(source), "output": str(path)})
        if not as_json:
            click.echo(str(path))
    if as_json:
        echo_json(written)


@click.command("score")
@model_argument()
@click.argument("table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output CSV.")
@device_option
@OVERWRITE
@json_option
@hub_options
def score_command(name: str, table: Path, output: Path, device: str, overwrite: bool, as_json: bool,
                  hub: dict) -> None:
    """Score each row of a CSV with an anomaly detector; writes row, score and is_anomaly columns
    to -o and prints its path.

    The table is read, scored and written in chunks, so a file of any size scores in the memory of
    one chunk; the output appears (complete) only at the end. Progress shows on a terminal only.

    \b
    Example:
      aezoo score fc-ae-fraud transactions.csv -o scores.csv
    """
    import sys

    from tqdm import tqdm

    from ..data.csvfile import read_csv
    from ..scoring import score_csv

    _check_outputs([output], [table], overwrite)
    read_csv(table, nrows=1)  # an unreadable table fails here, before the model loads
    model = _load_for(name, "decision_function", device, hub)
    summaries = []
    with tqdm(unit=" rows", unit_scale=True, desc="scoring", disable=not sys.stderr.isatty(), leave=False) as bar:
        def write(tmp: Path) -> None:
            summaries.append(score_csv(model, table, tmp, on_chunk=lambda done: bar.update(done - bar.n)))

        _write(output, write, overwrite=overwrite)
    summary = summaries[0]
    if as_json:
        echo_json({"output": str(output), "rows": summary.rows, "flagged": summary.flagged,
                   "threshold": summary.threshold})
        return
    click.echo(f"{summary.flagged} of {summary.rows} rows flagged (threshold {summary.threshold:.4g})", err=True)
    click.echo(str(output))


COMMANDS = [evaluate_command, sample_command, reconstruct_command, denoise_command, score_command]
