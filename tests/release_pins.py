"""Re-pin the first-party release files: push every ``weights/NAME`` to a fresh loopback write hub
(tests/hubwrite.py) and write each plugin's release file from what the hub returned.

    make release        # after a card or a checkpoint changed

Each release file names its repo (``aezoo/NAME``); the folder pushed is ``weights/NAME``. The
loopback hub's commit ids are deterministic, so the same files always give the same pins, and the
tests push the same folders to their own fresh hub to find the same commits. These pins stand in
for huggingface.co, which cannot be reached where they are made; publishing for real is
``aezoo push weights/NAME --repo aezoo/NAME --write-release PATH`` once online.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def release_files(root: Path = ROOT) -> dict[Path, str]:
    """Each first-party release file, with the repo id it pins."""
    found = sorted(root.glob("plugins/*/src/*/release*.json"))
    return {path: json.loads(path.read_text(encoding="utf-8"))["weights"]["repo_id"] for path in found}


def repin(root: Path = ROOT) -> dict[Path, dict]:
    """Push each release's ``weights/NAME`` to the hub (``HF_ENDPOINT``) and rewrite the release file."""
    from aezoo.publish import push_folder, write_release

    pins = {}
    for path, repo_id in release_files(root).items():
        pins[path] = push_folder(root / "weights" / repo_id.split("/")[1], repo_id)
        write_release(pins[path], path)
    return pins


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.hubwrite import HubWriteServer

    with HubWriteServer() as server:
        # Before huggingface_hub is imported: it reads these once. The loopback hub speaks LFS, not Xet.
        os.environ.update(HF_ENDPOINT=server.endpoint, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1",
                          HF_HUB_DISABLE_PROGRESS_BARS="1")
        os.environ.pop("HF_TOKEN", None)
        for path, pin in repin().items():
            print(f"{path.relative_to(ROOT)}: hf://{pin['weights']['repo_id']}@{pin['weights']['revision']}")


if __name__ == "__main__":
    main()
