"""`make bench`: every speed target of aezoo, measured side by side with its raw floor in one run.

    python benchmarks/run.py [--quick] [--only scoring,tasks] [--score-gb 5] [--creditcard CSV] [--json F] [--docs F]

Each row times the aezoo path and the raw floor (what a careful user would write by hand with
torch, safetensors and pandas) alternately, floor first, and keeps the median of each side:
process CPU time with one thread for in-process rows (robust to other load on the machine), the
child's CPU time for subprocess rows, wall time with a device sync for GPU rows. A row's ratio is
floor time / aezoo time (1.0: as fast as the floor; higher is faster), compared with its target.
The results go to a JSON file, and docs/benchmarks.md is generated from that file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is run as a script: make its sibling modules importable

GROUPS = ("startup", "load", "scoring", "quality", "tasks", "training", "memory", "gpu")


class Bench:
    """Collects result rows; ``compare`` times two callables alternately."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.rows: list[dict] = []

    def repeats(self, full: int) -> int:
        return max(3, full // 3) if self.quick else full

    def compare(self, group: str, case: str, floor: Callable[[], object], ours: Callable[[], object], *,
                target: float | None, repeats: int, clock: Callable[[], float] = time.process_time,
                floor_name: str, note: str = "") -> dict:
        floor(), ours()  # warm-up: first calls pay for lazy imports and allocator growth
        floor_times, our_times = [], []
        for _ in range(repeats):
            for fn, times in ((floor, floor_times), (ours, our_times)):
                start = clock()
                fn()
                times.append(clock() - start)
        return self.add(group, case, statistics.median(floor_times), statistics.median(our_times),
                        target=target, floor_name=floor_name, note=note, repeats=repeats)

    def add(self, group: str, case: str, floor_s: float | None, ours_s: float, *, target: float | None,
            floor_name: str, note: str = "", repeats: int = 1) -> dict:
        ratio = floor_s / ours_s if floor_s and ours_s > 0 else None
        row = {"group": group, "case": case, "floor": floor_name, "floor_s": floor_s, "aezoo_s": ours_s,
               "ratio": ratio, "target": target, "repeats": repeats, "note": note,
               "met": None if target is None or ratio is None else ratio >= target}
        self.rows.append(row)
        shown = "-" if ratio is None else f"{ratio:.2f}"
        print(f"{group:9s} {case:44s} floor {_fmt(floor_s):>10s}  aezoo {_fmt(ours_s):>10s}  ratio {shown}"
              + ("" if target is None else f" (target {target:.2f})"), flush=True)
        return row


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.2f} s"


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "date": datetime.date.today().isoformat()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and the smaller sizes (a smoke run)")
    parser.add_argument("--only", help=f"comma-separated groups among {', '.join(GROUPS)}")
    parser.add_argument("--score-gb", type=float, default=1.0, help="size of the big CSV of the memory rows")
    parser.add_argument("--creditcard", type=Path, help="the real creditcard.csv, for the quality rows")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--docs", type=Path, help="also write the Markdown report (docs/benchmarks.md)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other groups' rows of the existing --json file (re-measure some groups only)")
    args = parser.parse_args(argv)
    groups = args.only.split(",") if args.only else list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups {sorted(unknown)}; known: {', '.join(GROUPS)}")

    import torch

    from benchmarks import cases

    torch.set_num_threads(1)
    bench = Bench(args.quick)
    with tempfile.TemporaryDirectory(prefix="aezoo-bench-") as scratch:
        env = {**os.environ, "AEZOO_HOME": str(Path(scratch) / "home"), "HF_HUB_OFFLINE": "1",
               "AEZOO_MIRRORS": str(ROOT / "weights"), "OMP_NUM_THREADS": "1"}
        for group in groups:
            getattr(cases, group)(bench, Path(scratch), env, score_gb=args.score_gb, creditcard=args.creditcard)
    given = list(argv if argv is not None else sys.argv[1:])
    if args.creditcard:  # the command goes into the docs: the file's name, not where it lies on this machine
        given = [args.creditcard.name if a == str(args.creditcard) else a for a in given]
    command = "python benchmarks/run.py " + " ".join(given)
    result = {"machine": machine(), "commands": [command.strip()], "quick": args.quick, "rows": bench.rows}
    if args.merge and args.json.is_file():
        earlier = json.loads(args.json.read_text())
        kept = [row for row in earlier["rows"] if row["group"] not in groups]
        result["rows"] = sorted(kept + bench.rows, key=lambda row: GROUPS.index(row["group"]))
        result["commands"] = earlier["commands"] + result["commands"]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    if args.docs:
        from benchmarks.report import write_report

        write_report(args.json, args.docs)
        print(f"wrote {args.docs}")


if __name__ == "__main__":
    main()
