"""Model cards: the README.md of a checkpoint, with the metadata the Hugging Face Hub reads.

Each part of a card is stored once, where it changes:

- the prose its author writes (how to train on the full data set, notes) lives in a card file
  shipped in the plugin package (``card.md``, read by :func:`read_prose` into the spec's
  ``CardData``), so ``aezoo info`` and the card say the same;
- the measured facts (metrics, what the run trained on) live in the plugin's release file, taken
  from the card the training run wrote;
- the rest comes from the spec: name, summary, task (the Hub's ``pipeline_tag``), licence, the
  Hub ids of the data sets (``CardData.datasets``) and the input shapes of the Usage section.

A checkpoint's README.md is rendered from these (:func:`render_model_card`; for a folder,
``aezoo card FOLDER``) and never edited by hand. Since the spec's card comes from
the plugin package and not from the README, a typo fixed in ``card.md`` ships with the next plugin
release and needs no new weights revision; the README at the pinned revision keeps its wording
until the weights are published again. In the README the prose is written once, as Markdown
sections; the ``aezoo`` key of the front matter holds only the metrics with their exact values.
:func:`read_card` reads this layout and the older one that kept the prose under ``aezoo`` too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CheckpointError, InvalidSpecError
from .spec import CardData, Metric, ModelSpec

if TYPE_CHECKING:
    from .checkpoint import CheckpointConfig

# The Hub's pipeline tag of each task. The Hub has no anomaly-detection pipeline: a detector labels
# each row of a table normal or anomalous (predict) from a score (decision_function), which is
# binary classification of tabular rows, so "tabular-classification" is the closest real tag.
PIPELINE_TAGS = {
    "denoise": "image-to-image",
    "reconstruct": "image-to-image",
    "generate": "unconditional-image-generation",
    "anomaly": "tabular-classification",
}
TASK_TAGS = {
    "denoise": ["image-denoising", "denoising-autoencoder"],
    "reconstruct": ["image-reconstruction"],
    "generate": ["image-generation"],
    "anomaly": ["anomaly-detection", "tabular"],
}
# CardData field -> its Markdown section. The card file holds the last two; a README holds all three.
SECTIONS = {
    "training_data": "Training data",
    "full_data_training": "Training on the full data set",
    "notes": "Notes",
}
CARD_FILE_FIELDS = ("full_data_training", "notes")
_HEADING = re.compile(r"^## +(.+?)[ \t]*$", re.MULTILINE)

# The .gitattributes the Hub writes into a new model repo (its LFS patterns), plus PNG: the cards'
# images are binary, and the Hub refuses binary files pushed with git outside LFS.
HUB_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
        "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
        "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
        "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*", "*.png",
    )
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")


def _sections(markdown: str) -> tuple[str, dict[str, str]]:
    """The text before the first ``## `` heading, and each section's text by heading."""
    parts = _HEADING.split(markdown)
    return parts[0], {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts), 2)}


def read_prose(path: Path | Any) -> dict[str, str]:
    """The prose of a plugin's card file (a path or an ``importlib.resources`` traversable), as
    ``CardData`` keyword arguments: ``## Training on the full data set`` and ``## Notes``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSpecError(
            f"Cannot read the card file {path} ({type(exc).__name__}: {str(exc)[:200]}).",
            "Ship it with the plugin: list it in [tool.setuptools.package-data] of its pyproject.toml.",
        ) from exc
    before, sections = _sections(text)
    known = {SECTIONS[f]: f for f in CARD_FILE_FIELDS}
    unknown = [h for h in sections if h not in known]
    if before.strip() or unknown:
        raise InvalidSpecError(
            f"The card file {path} has text outside its sections"
            + (f" (unknown sections: {', '.join(unknown)})" if unknown else "") + ".",
            "Write only the sections " + " and ".join(f"'## {h}'" for h in known) + ".",
        )
    return {field: sections.get(heading, "") for heading, field in known.items()}


def _check_prose(card: CardData, owner: str) -> None:
    """A prose field holding a '## ' heading line would end its section early in the README."""
    for field in SECTIONS:
        if _HEADING.search(getattr(card, field)):
            raise InvalidSpecError(f"{owner}: card.{field} holds a '## ' heading line.",
                                   "Use '###' or plain paragraphs inside a card section.")


def render_card(
    *,
    name: str,
    summary: str,
    task: str,
    card: CardData,
    body: str = "",
    image: str | None = None,
    usage: str | None = None,
) -> str:
    """A README.md from its parts: YAML metadata, then what the model is, its data, its numbers,
    its prose and ``usage`` (a Markdown Usage section; by default the load line alone)."""
    from huggingface_hub import EvalResult, ModelCardData

    _check_prose(card, f"Card of {name}")
    pipeline_tag = PIPELINE_TAGS.get(task)
    # Every metric of a checkpoint is measured on the held-out split of the data it was trained on;
    # the model-index names that data by its Hub id, so it lists results only when the card names one.
    hub_dataset = card.datasets[0] if len(card.datasets) == 1 else None
    results = [
        EvalResult(
            task_type=pipeline_tag or task,
            dataset_type=hub_dataset,
            dataset_name=m.dataset,
            dataset_split=m.split,
            metric_type=m.name,
            metric_name=f"{m.name} ({m.unit})" if m.unit else m.name,
            metric_value=m.value,
        )
        for m in card.metrics
    ] if hub_dataset else []
    data = ModelCardData(
        license=card.license or None,
        datasets=list(card.datasets) or None,
        library_name="aezoo",
        pipeline_tag=pipeline_tag,
        tags=["aezoo", "autoencoder", "pytorch", *TASK_TAGS.get(task, [task])],
        model_name=name if results else None,
        eval_results=results or None,
        aezoo={"metrics": [asdict(m) for m in card.metrics]},
    )
    lines = [f"---\n{data.to_yaml()}\n---", f"# {name}", "", summary, ""]
    if image:
        lines += [f"![{name}]({image})", ""]
    if card.training_data:
        lines += [f"## {SECTIONS['training_data']}", "", card.training_data, ""]
    if card.metrics:
        lines += ["## Metrics", "", "| metric | value | data | split | protocol |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {m.name} | {m.value:.4g}{' ' + m.unit if m.unit else ''} | {m.dataset} | {m.split} | {m.protocol} |"
            for m in card.metrics
        ]
        lines.append("")
    for field in CARD_FILE_FIELDS:
        if getattr(card, field):
            lines += [f"## {SECTIONS[field]}", "", getattr(card, field), ""]
    if body:
        lines += [body, ""]
    lines.append(usage or _usage("pip install aezoo", "import aezoo", "", f'model = aezoo.load("{name}")'))
    return "\n".join(lines)


def render_model_card(
    spec: ModelSpec,
    card: CardData | None = None,
    *,
    image: str | None = None,
    checkpoint: CheckpointConfig | None = None,
) -> str:
    """The README.md of a checkpoint of ``spec``: ``card`` (default: the spec's), and a Usage
    section that installs the plugin's distribution and calls the task method on inputs of the
    checkpoint's shape (``checkpoint``'s config and preprocessing, default the spec's)."""
    config = checkpoint.config if checkpoint else spec.config
    preprocessing = checkpoint.preprocessing if checkpoint else spec.preprocessing
    return render_card(name=spec.name, summary=spec.summary, task=spec.task, card=card or spec.card, image=image,
                       usage=usage_section(spec, config, preprocessing))


def _usage(install: str, *code: str) -> str:
    return "\n".join(["## Usage", "", "```bash", install, "```", "", "```python", *code, "```", ""])


def usage_section(spec: ModelSpec, config: Mapping[str, Any], preprocessing: Mapping[str, object]) -> str:
    """The Usage section: the pip install line and the task call with inputs of the right shape."""
    install = " ".join(["pip install aezoo", *([spec.distribution] if spec.distribution.startswith("aezoo-") else [])])
    load = f'aezoo.load("{spec.name}")'
    size = preprocessing.get("image_size", config.get("image_size"))
    channels = preprocessing.get("channels", config.get("channels"))
    image = f"{channels}, {size}, {size}" if isinstance(size, int) and isinstance(channels, int) else None
    features = preprocessing.get("features") or config.get("features")
    columns = features if isinstance(features, list) else None
    width = len(features) if isinstance(features, list) else features if isinstance(features, int) else None
    if spec.task == "generate":
        shown = f"(16, {image})" if image else "16 samples"
        return _usage(install, "import aezoo", "", f"model = {load}",
                              f"images = model.sample(16, seed=0)  # {shown} in [0, 1]; the same seed, the same images")
    if spec.task in ("denoise", "reconstruct") and image:
        method, result = ("denoise", "clean") if spec.task == "denoise" else ("reconstruct", "restored")
        return _usage(install, "import torch", "import aezoo", "", f"model = {load}",
                              f"images = torch.rand(8, {image})  # your (N, {image}) floats in [0, 1]",
                              f"{result} = model.{method}(images)  # the same shape, in [0, 1]")
    if spec.task == "anomaly" and width:
        named = "" if not columns else (
            f": the columns {', '.join(columns)}" if len(columns) <= 4
            else f": the columns {columns[0]}, ..., {columns[-1]}"
        ) + " in this order, or a DataFrame with them"
        return _usage(install, "import numpy as np", "import aezoo", "", f"detector = {load}",
                              f"rows = np.random.default_rng(0).random((8, {width}))  # (N, {width}){named}",
                              "scores = detector.decision_function(rows)  # one anomaly score per row, "
                              "higher = stranger",
                              "flags = detector.predict(rows)  # 1 where the score passes the stored threshold")
    return _usage(install, "import aezoo", "", f"model = {load}  # a torch.nn.Module in eval mode")


def read_card(path: Path) -> CardData | None:
    """The ``CardData`` stored in a README.md written by aezoo; None when there is none.

    Front matter that is not valid YAML, or card data of the wrong shape, is a ``CheckpointError``
    naming the file (``aezoo.load`` turns it into a warning: the card is informative)."""
    import yaml
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    path = Path(path)
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
        match = REGEX_YAML_BLOCK.search(text)
        # libyaml's safe loader when PyYAML has it: the pure-Python one took most of a warm load's time
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        meta = (yaml.load(match.group(2), Loader=loader) if match else None) or {}
        if not isinstance(meta, dict):
            raise TypeError(f"the front matter is a {type(meta).__name__}, not a mapping")
        doc = meta.get("aezoo")
        datasets = meta.get("datasets") or ()
        datasets = tuple(datasets) if isinstance(datasets, (list, tuple)) else (str(datasets),)
        if not isinstance(doc, dict):
            card = CardData(license=str(meta.get("license", "")), datasets=datasets)
        else:
            doc = dict(doc)
            metrics = doc.pop("metrics", None) or []
            if not isinstance(metrics, list) or not all(isinstance(m, dict) for m in metrics):
                raise TypeError("'metrics' is not a list of mappings")
            sections = _sections(text[match.end():] if match else "")[1]
            for field, heading in SECTIONS.items():  # older cards keep the prose under 'aezoo' too
                doc.setdefault(field, sections.get(heading, ""))
            doc.setdefault("license", meta.get("license", ""))
            doc["datasets"] = tuple(doc.get("datasets") or datasets)
            card = CardData(**doc, metrics=tuple(Metric(**m) for m in metrics))
        card.validate(f"Card {path}")
        return card
    except CheckpointError:
        raise
    except Exception as exc:  # yaml's errors, wrong types, undecodable text: all one case
        if isinstance(exc, InvalidSpecError):
            what = exc.what
        else:
            what = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise CheckpointError(
            f"The model card {path} has malformed metadata ({what}).",
            "Fix or remove its YAML front matter (between the '---' lines); the weights are not affected.",
        ) from exc


def render_folder(folder: Path, *, image: str | None = None) -> Path:
    """Write ``folder``'s README.md from its registered spec (card file prose, release numbers) and
    the Hub's ``.gitattributes``; ``image`` defaults to the folder's only image file."""
    from .checkpoint import CARD_FILE, atomic_write, read_config
    from .registry import get_registry

    folder = Path(folder)
    checkpoint = read_config(folder)
    spec = get_registry().get(checkpoint.architecture)
    if image is None:
        images = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if len(images) > 1:
            raise CheckpointError(f"{folder} holds several images ({', '.join(images)}).",
                                  "Choose the card's image with --image FILE.")
        image = images[0] if images else None
    elif not (folder / image).is_file():
        raise CheckpointError(f"{folder} has no image {image!r}.", "Give the name of an image inside the folder.")
    atomic_write(folder / CARD_FILE, render_model_card(spec, image=image, checkpoint=checkpoint).encode())
    atomic_write(folder / ".gitattributes", HUB_GITATTRIBUTES.encode())
    return folder / CARD_FILE

