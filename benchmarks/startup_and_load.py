"""How fast the everyday paths are: CLI start-up, listing, and loading verified weights.

Run by hand (`.venv/bin/python benchmarks/startup_and_load.py`); results go in docs/benchmarks.md.
Targets: `aezoo --help` and `aezoo list` well under a second and free of torch; a warm load
(verification remembered) faster than a cold one (full sha256 of every file).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AEZOO = [str(Path(sys.executable).with_name("aezoo"))]


def median_seconds(command: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AEZOO_HOME": home, "AEZOO_MIRRORS": str(ROOT / "weights"), "HF_HUB_OFFLINE": "1"}
        rows = [
            ("python -c 'import aezoo'", median_seconds([sys.executable, "-c", "import aezoo"], 10, env)),
            ("python -c 'import torch' (for scale)", median_seconds([sys.executable, "-c", "import torch"], 5, env)),
            ("aezoo --help", median_seconds([*AEZOO, "--help"], 10, env)),
            ("aezoo list", median_seconds([*AEZOO, "list"], 10, env)),
        ]
        load = ("import time, torch, aezoo; t=time.perf_counter(); aezoo.load('fc-dae-mnist', device='cpu'); "
                "print(time.perf_counter()-t)")
        cold = float(subprocess.run([sys.executable, "-c", load], check=True, capture_output=True, text=True,
                                    env=env).stdout)
        warm = statistics.median(
            float(subprocess.run([sys.executable, "-c", load], check=True, capture_output=True, text=True,
                                 env=env).stdout)
            for _ in range(5)
        )
        rows += [("aezoo.load('fc-dae-mnist'), first (sha256 of 7.4 MB)", cold),
                 ("aezoo.load('fc-dae-mnist'), warm (verification remembered)", warm)]
    print("| what | median seconds |\n| --- | --- |")
    for what, seconds in rows:
        print(f"| {what} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
