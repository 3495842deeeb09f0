"""``aezoo evaluate``, ``sample``, ``denoise`` and ``score``: using models for their task (imports torch)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import TaskNotSupportedError
from .output import echo_json


def _load_for(name: str, method: str, device: str):  # noqa: ANN202
    from .. import load

    model = load(name, device=device)
    if not callable(getattr(model, method, None)):
        raise TaskNotSupportedError(
            f"{model.aezoo.name} has no {method}() (its task is {model.aezoo.spec.task}).",
            "Run 'aezoo list' to find a model for this task.",
        )
    return model


@click.command("evaluate")
@click.argument("name")
@click.option("--data", help="A data set name or path (default: the card's data set and protocol).")
@click.option("--device", default="auto", show_default=True)
@click.option("--inception", type=click.Path(dir_okay=False, path_type=Path),
              help="FID Inception weights (safetensors) to add FID for generative models.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def evaluate_command(name: str, data: str | None, device: str, inception: Path | None, as_json: bool) -> None:
    """Re-measure NAME's metrics on the held-out split, beside the values its card states."""
    from .. import info
    from ..evaluate import evaluate

    measured = evaluate(name, data=data, device=device, inception_weights=inception)
    card = {m.name: m for m in info(name).card.metrics} if not Path(name).exists() else {}
    if as_json:
        echo_json({k: {"measured": v, "card": card[k].value if k in card else None} for k, v in measured.items()})
        return
    for key, value in measured.items():
        stated = f"   (card: {card[key].value:.4g})" if key in card and data is None else ""
        click.echo(f"{key}: {value:.4g}{stated}")


@click.command("sample")
@click.argument("name")
@click.option("-n", "count", type=click.IntRange(1, 4096), default=64, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="samples.png", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
def sample_command(name: str, count: int, output: Path, seed: int, device: str) -> None:
    """Draw -n samples from a generative model and save them as one PNG grid."""
    from ..images import save_grid

    model = _load_for(name, "sample", device)
    click.echo(str(save_grid(model.sample(count, seed=seed).cpu(), output)))


@click.command("denoise")
@click.argument("name")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--device", default="auto", show_default=True)
def denoise_command(name: str, images: tuple[Path, ...], output: Path, device: str) -> None:
    """Denoise IMAGES with NAME; writes one PNG per image into -o and prints each path."""
    from ..images import read_images, save_image

    model = _load_for(name, "denoise", device)
    prep = model.aezoo.preprocessing
    batch = read_images(images, image_size=prep.get("image_size"), channels=prep.get("channels", 1))
    for path, restored in zip(images, model.denoise(batch).cpu()):
        click.echo(str(save_image(restored, output / f"{path.stem}.png")))


@click.command("score")
@click.argument("name")
@click.argument("table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output CSV.")
@click.option("--device", default="auto", show_default=True)
def score_command(name: str, table: Path, output: Path, device: str) -> None:
    """Score each row of a CSV with an anomaly detector; writes score and is_anomaly columns."""
    from ..data import require

    pandas = require("pandas", "pandas", "csv")
    model = _load_for(name, "decision_function", device)
    frame = pandas.read_csv(table)
    result = pandas.DataFrame({"score": model.decision_function(frame), "is_anomaly": model.predict(frame)})
    output.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(output, index_label="row")
    flagged = int(result["is_anomaly"].sum())
    click.echo(f"{flagged} of {len(result)} rows flagged (threshold {float(model.threshold_):.4g})", err=True)
    click.echo(str(output))


COMMANDS = [evaluate_command, sample_command, denoise_command, score_command]
