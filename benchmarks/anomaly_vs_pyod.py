"""fc-ae-fraud's detector against PyOD's AutoEncoder and scikit-learn's IsolationForest, on real
tabular anomaly data that ships with scikit-learn. Run by hand (results go in docs/anomaly.md):

    pip install -c constraints.txt -e '.[bench]'     # pyod (a benchmark dependency only)
    python benchmarks/anomaly_vs_pyod.py [--seeds 10] [--json results.json]     # about 1 minute on 1 core
    python benchmarks/anomaly_vs_pyod.py --detectors aezoo-long                  # longer training (ablation)
    python benchmarks/anomaly_vs_pyod.py --synthetic ...   # also the shipped weights on synthetic-creditcard
    python benchmarks/anomaly_vs_pyod.py --creditcard path/to/creditcard.csv --only none   # the real data

``--creditcard PATH``: the shipped fc-ae-fraud weights against the four baselines on the card's
protocol, the real ULB credit-card fraud data on its time split (rows sorted by Time; the first
80 % train, the last 20 % test). Every baseline is fitted on the normal rows of the first 80 %
(the model's columns, raw) and scored on the last 20 %: PyOD's AutoEncoder (defaults), scikit-learn
IsolationForest (defaults), PCA reconstruction error (z-scored rows, the fewest components that
explain 95 % of the training variance) and the mean squared z-score. The baselines are the functions
of ``aezoo.training.steps.anomaly`` that the training step and ``aezoo evaluate`` use (about 5 minutes
on one busy core, most of it PyOD).

Protocol, the same for every detector (same rows, same raw features, same seeds):
- breast-cancer: 357 benign cases are normal, 212 malignant cases are anomalies.
- digits one-class-versus-rest: each digit 0..9 in turn is the normal class (about 180 rows),
  the nine other digits are anomalies; results are averaged over the ten digits.
- For each seed: the normal rows are shuffled; 60 % of them are the training rows (normal only);
  the test rows are the other 40 % of the normals plus anomalies drawn at random (without
  replacement) to make up 25 % of the test rows (one anomaly per three held-out normals).
- Scores are ranked against the test labels: ROC AUC and average precision (anomaly = positive).
  With anomalies at 25 % of the test rows, a random ranking has AP 0.25.
- Detectors: aezoo's fc-ae-fraud detector built for the table's columns (its shipped recipe and
  hidden sizes, fitted with ``model.fit`` through aezoo's training engine); PyOD AutoEncoder with
  its defaults (hidden [64, 32], batch norm, dropout 0.2, 10 epochs, batch 32, lr 1e-3,
  weight decay 1e-5, its own z-scoring), and the same with as many epochs as aezoo's recipe;
  scikit-learn IsolationForest with its defaults (100 trees); and, as the no-learning baseline,
  the mean squared z-score of each row. Each gets ``random_state`` = seed (aezoo:
  torch.manual_seed(seed) before building, and the recipe's seed = seed).
- ``aezoo-long`` (not run by default): the same detector trained 100 epochs of batch 32.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import aezoo
from aezoo.data.tabular import Table, breast_cancer_table, digits_table
from aezoo.metrics import average_precision, roc_auc

TRAIN_SHARE = 0.6
ANOMALY_SHARE = 0.25


def split(table: Table, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train rows, test rows, test labels) for one seed, as described in the module docstring."""
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(table.y == 0))
    anomalous = rng.permutation(np.flatnonzero(table.y == 1))
    n_train = round(TRAIN_SHARE * len(normal))
    held_out = normal[n_train:]
    n_anomalies = round(len(held_out) * ANOMALY_SHARE / (1 - ANOMALY_SHARE))
    test = np.concatenate([held_out, anomalous[:n_anomalies]])
    return table.x[normal[:n_train]], table.x[test], table.y[test]


def aezoo_detector(table: Table, seed: int, **overrides) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    spec = aezoo.info("fc-ae-fraud")
    config = {**spec.config, "features": list(table.features), "label": None, "log_features": [], "ignore": [],
              **overrides.pop("config", {})}

    def run(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        torch.manual_seed(seed)  # the initial weights: fit seeds the training itself
        model = aezoo.build(spec, config)
        model.fit(train, seed=seed, **overrides)
        return model.decision_function(test)

    return run


def pyod_autoencoder(seed: int, epochs: int = 10) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    from pyod.models.auto_encoder import AutoEncoder

    def run(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        detector = AutoEncoder(epoch_num=epochs, random_state=seed, verbose=0, device="cpu")
        return detector.fit(train).decision_function(test)

    return run


def z_score_norm(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The no-learning baseline: mean squared z-score of each test row (statistics of the training
    rows; constant features keep scale 1). It is what an autoencoder that reconstructs nothing scores."""
    mean, std = train.mean(0), train.std(0)
    return (((test - mean) / np.where(std < 1e-6, 1.0, std)) ** 2).mean(1)


def isolation_forest(seed: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    from sklearn.ensemble import IsolationForest

    def run(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return -IsolationForest(random_state=seed).fit(train).score_samples(test)

    return run


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--only", choices=["breast-cancer", "digits", "none"], help="one data set only (none: "
                        "only --synthetic / --creditcard)")
    parser.add_argument("--creditcard", type=Path, metavar="PATH",
                        help="also compare on the real creditcard.csv, time split (the fc-ae-fraud card's protocol)")
    parser.add_argument("--detectors", default="aezoo,pyod,pyod-long,iforest,znorm",
                        help="comma-separated, from aezoo, aezoo-long, pyod, pyod-long, iforest, znorm")
    parser.add_argument("--synthetic", action="store_true",
                        help="also compare on the SYNTHETIC credit-card test split (about 1.5 min more)")
    parser.add_argument("--override", default="{}", help="JSON recipe/config overrides for aezoo (tuning runs)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    overrides = json.loads(args.override)
    spec = aezoo.info("fc-ae-fraud")
    epochs = overrides.get("epochs", spec.recipe.epochs)

    tables = []
    if args.only in (None, "breast-cancer"):
        tables.append(("breast-cancer", [breast_cancer_table()]))
    if args.only in (None, "digits"):
        tables.append(("digits (one-vs-rest, mean over 10 digits)", [digits_table(d) for d in range(10)]))
    long = {"epochs": 100, "batch_size": 32}
    detectors = {
        "aezoo": ("aezoo fc-ae-fraud (shipped recipe)", lambda table, seed: aezoo_detector(table, seed, **overrides)),
        "aezoo-long": ("aezoo fc-ae-fraud, 100 epochs of batch 32",
                       lambda table, seed: aezoo_detector(table, seed, **{**overrides, **long})),
        "pyod": ("PyOD AutoEncoder (defaults: 10 epochs)", lambda table, seed: pyod_autoencoder(seed)),
        "pyod-long": (f"PyOD AutoEncoder ({epochs} epochs)", lambda table, seed: pyod_autoencoder(seed, epochs)),
        "iforest": ("IsolationForest (defaults)", lambda table, seed: isolation_forest(seed)),
        "znorm": ("z-score norm (no learning)", lambda table, seed: z_score_norm),
    }
    wanted = [detectors[d] for d in args.detectors.split(",")]

    results: dict = {"protocol": __doc__, "seeds": args.seeds, "overrides": overrides,
                     "python": platform.python_version(), "torch": torch.__version__, "data": {}}
    for data_name, group in tables:
        rows = {}
        for detector, make in wanted:
            aucs, aps, started = [], [], time.perf_counter()
            for seed in range(args.seeds):
                run_auc, run_ap = [], []
                for table in group:
                    train, test, labels = split(table, seed)
                    scores = make(table, seed)(train, test)
                    run_auc.append(roc_auc(labels, scores))
                    run_ap.append(average_precision(labels, scores))
                aucs.append(float(np.mean(run_auc)))  # per seed: the mean over the group (ten digits)
                aps.append(float(np.mean(run_ap)))
            rows[detector] = {"roc_auc": aucs, "average_precision": aps, "seconds": time.perf_counter() - started}
            print(f"{data_name:45s} {detector:40s} ROC AUC {np.mean(aucs):.4f} ± {np.std(aucs):.4f}   "
                  f"AP {np.mean(aps):.4f} ± {np.std(aps):.4f}   ({rows[detector]['seconds']:.0f} s)",
                  file=sys.stderr, flush=True)
        results["data"][data_name] = rows
    if args.synthetic:
        results["synthetic-creditcard"] = synthetic_comparison()
    if args.creditcard:
        results["creditcard"] = creditcard_comparison(args.creditcard)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


def synthetic_comparison() -> dict[str, dict[str, float]]:
    """The shipped weights against peers on the card's split of the SYNTHETIC credit-card data (seed 0,
    200,000 rows, test = index % 5 == 4); the peers train on the normal rows of the training split."""
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard
    from pyod.models.auto_encoder import AutoEncoder
    from sklearn.ensemble import IsolationForest

    data = synthetic_creditcard()
    x_train, y_train = data.train.x.numpy().astype("float64"), data.train.y.numpy()
    x_test, y_test = data.test.x.numpy().astype("float64"), data.test.y.numpy()
    normal = x_train[y_train == 0]
    mean, std = normal.mean(0), normal.std(0)
    runs = {
        "per-feature z-score norm (no learning)": lambda: (((x_test - mean) / std) ** 2).mean(1),
        "aezoo fc-ae-fraud (shipped weights, trained on the real data)": lambda: aezoo.load(
            "fc-ae-fraud", device="cpu").decision_function(x_test[:, 1:]),  # it does not read Time
        "PyOD AutoEncoder (defaults)": lambda: AutoEncoder(random_state=0, verbose=0, device="cpu").fit(
            normal).decision_function(x_test),
        "IsolationForest (defaults)": lambda: -IsolationForest(random_state=0).fit(normal).score_samples(x_test),
    }
    results = {}
    for name, run in runs.items():
        started = time.perf_counter()
        scores = run()
        results[name] = {"roc_auc": roc_auc(y_test, scores), "average_precision": average_precision(y_test, scores),
                         "seconds": time.perf_counter() - started}
        print(f"synthetic-creditcard {name:40s} ROC AUC {results[name]['roc_auc']:.4f}   "
              f"AP {results[name]['average_precision']:.4f}   ({results[name]['seconds']:.0f} s)",
              file=sys.stderr, flush=True)
    return results


def creditcard_comparison(path: Path) -> dict[str, dict[str, float]]:
    """The shipped weights and the four baselines on the real data's time split (see the docstring)."""
    from aezoo_fc_ae_fraud.creditcard import creditcard

    from aezoo.metrics import precision_recall_at
    from aezoo.training.steps.anomaly import BASELINE_FUNCTIONS

    model = aezoo.load("fc-ae-fraud", device="cpu")
    data = creditcard(path, features=model.aezoo.preprocessing["features"])
    x_train, y_train = data.train.x.numpy().astype("float64"), data.train.y.numpy()
    x_test, y_test = data.test.x.numpy().astype("float64"), data.test.y.numpy()
    normal = x_train[y_train == 0]
    print(f"creditcard: {data.split}", file=sys.stderr, flush=True)
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    scores = model.decision_function(data.test.x)
    precision, recall = precision_recall_at(y_test, scores, model.threshold_)
    results["aezoo fc-ae-fraud (shipped weights)"] = {
        "roc_auc": roc_auc(y_test, scores), "average_precision": average_precision(y_test, scores),
        "alert_rate": float((scores > model.threshold_).mean()), "recall": recall, "precision": precision,
        "seconds": time.perf_counter() - started}
    for name, run in BASELINE_FUNCTIONS.items():
        started = time.perf_counter()
        scores, facts = run(normal, x_test, 0)
        results[name] = {"roc_auc": roc_auc(y_test, scores), "average_precision": average_precision(y_test, scores),
                         **facts, "seconds": time.perf_counter() - started}
    for name, r in results.items():
        print(f"creditcard {name:40s} ROC AUC {r['roc_auc']:.4f}   AP {r['average_precision']:.4f}   "
              f"({r['seconds']:.0f} s)", file=sys.stderr, flush=True)
    return results


def markdown(results: dict) -> str:
    lines = [f"| data | detector | ROC AUC (mean ± std over {results['seeds']} seeds) | average precision | time |",
             "| --- | --- | --- | --- | --- |"]
    for data_name, rows in results["data"].items():
        for detector, r in rows.items():
            lines.append(f"| {data_name} | {detector} | {np.mean(r['roc_auc']):.3f} ± {np.std(r['roc_auc']):.3f} | "
                         f"{np.mean(r['average_precision']):.3f} ± {np.std(r['average_precision']):.3f} | "
                         f"{r['seconds']:.0f} s |")
    if "synthetic-creditcard" in results:
        lines += ["", "| synthetic-creditcard (one split) | ROC AUC | average precision | time |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {name} | {r['roc_auc']:.3f} | {r['average_precision']:.3f} | {r['seconds']:.0f} s |"
                  for name, r in results["synthetic-creditcard"].items()]
    if "creditcard" in results:
        lines += ["", "| creditcard, time split (last 20 % by Time) | ROC AUC | average precision | time |",
                  "| --- | --- | --- | --- |"]
        for name, r in results["creditcard"].items():
            extra = f" (alert rate {r['alert_rate']:.4f}, recall {r['recall']:.3f})" if "alert_rate" in r else ""
            extra += f" ({int(r['components'])} components)" if "components" in r else ""
            lines.append(f"| {name}{extra} | {r['roc_auc']:.4f} | {r['average_precision']:.4f} | "
                         f"{r['seconds']:.0f} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
