"""Model cards: README.md with Hugging Face metadata (license, datasets, model-index metrics).

The full ``CardData`` is also kept under an ``aezoo`` key in the YAML front matter, so a loaded
checkpoint carries exactly the data, protocol and numbers its card states.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from .errors import InvalidSpecError
from .spec import CardData, Metric

TASK_TYPES = {"denoise": "image-to-image", "anomaly": "tabular-classification", "reconstruct": "image-to-image",
              "generate": "unconditional-image-generation"}


def render_card(
    *,
    name: str,
    summary: str,
    task: str,
    card: CardData,
    body: str = "",
    image: str | None = None,
) -> str:
    """The README.md of a checkpoint: YAML metadata, then what it is, its data and its numbers."""
    from huggingface_hub import EvalResult, ModelCardData

    results = [
        EvalResult(
            task_type=TASK_TYPES.get(task, task),
            dataset_type=m.dataset,
            dataset_name=m.dataset,
            dataset_split=m.split,
            metric_type=m.name,
            metric_name=f"{m.name} ({m.unit})" if m.unit else m.name,
            metric_value=m.value,
        )
        for m in card.metrics
    ]
    data = ModelCardData(
        license=card.license,
        datasets=list(card.datasets) or None,
        library_name="aezoo",
        tags=["aezoo", "autoencoder", task],
        model_name=name,
        eval_results=results or None,
        aezoo=_plain(card),
    )
    lines = [f"---\n{data.to_yaml()}\n---", f"# {name}", "", summary, ""]
    if image:
        lines += [f"![{name}]({image})", ""]
    lines += ["## Training data", "", card.training_data or "Not stated.", ""]
    if card.metrics:
        lines += ["## Metrics", "", "| metric | value | data | split | protocol |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {m.name} | {m.value:.4g}{' ' + m.unit if m.unit else ''} | {m.dataset} | {m.split} | {m.protocol} |"
            for m in card.metrics
        ]
        lines.append("")
    if card.full_data_training:
        lines += ["## Training on the full data set", "", card.full_data_training, ""]
    if card.notes:
        lines += ["## Notes", "", card.notes, ""]
    if body:
        lines += [body, ""]
    lines += ["## Usage", "", "```python", "import aezoo", f'model = aezoo.load("{name}")', "```", ""]
    return "\n".join(lines)


def _plain(card: CardData) -> dict[str, Any]:
    doc = asdict(card)
    doc["datasets"] = list(card.datasets)
    doc["metrics"] = [asdict(m) for m in card.metrics]
    return doc


def read_card(path: Path) -> CardData | None:
    """The ``CardData`` stored in a README.md written by aezoo; None when there is none.

    Front matter that is not valid YAML, or card data of the wrong shape, is a ``CheckpointError``
    naming the file (``aezoo.load`` turns it into a warning: the card is informative)."""
    from huggingface_hub import metadata_load

    from .errors import CheckpointError

    path = Path(path)
    if not path.is_file():
        return None
    try:
        meta = metadata_load(path) or {}
        if not isinstance(meta, dict):
            raise TypeError(f"the front matter is a {type(meta).__name__}, not a mapping")
        doc = meta.get("aezoo")
        if not isinstance(doc, dict):
            datasets = meta.get("datasets") or ()
            card = CardData(license=str(meta.get("license", "")),
                            datasets=tuple(datasets) if isinstance(datasets, (list, tuple)) else (str(datasets),))
        else:
            doc = dict(doc)
            metrics = doc.pop("metrics", None) or []
            if not isinstance(metrics, list) or not all(isinstance(m, dict) for m in metrics):
                raise TypeError("'metrics' is not a list of mappings")
            doc["datasets"] = tuple(doc.get("datasets") or ())
            card = CardData(**doc, metrics=tuple(Metric(**m) for m in metrics))
        card.validate(f"Card {path}")
        return card
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - yaml's errors, wrong types, undecodable text: all one case
        if isinstance(exc, InvalidSpecError):
            what = exc.what
        else:
            what = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise CheckpointError(
            f"The model card {path} has malformed metadata ({what}).",
            "Fix or remove its YAML front matter (between the '---' lines); the weights are not affected.",
        ) from exc
