"""The output folder of a training run: whose files are in it, one run at a time, files moved into place.

aezoo writes only what it can name as its own. A folder is a *run folder* when aezoo claimed it
(``.aezoo-run.json``, the record of the files aezoo wrote and their sha256) or, for runs of older
versions, when it holds an aezoo training state or an aezoo ``config.json``. Into any other
non-empty folder a run is refused unless ``overwrite``; even then aezoo replaces only the files it
writes itself (config.json, model.safetensors, README.md, the card's images, metrics.csv,
training-state/, tensorboard/) and deletes nothing. A run folder resumes as before; files in it that
aezoo did not write are left as they are, and one with a name aezoo is about to write (or an aezoo
file changed since) is refused unless ``overwrite``.

One run at a time per folder: ``.aezoo.lock`` is held (a ``filelock`` lock, released when the
process ends, however it ends) from before the first input check to the last file written.
The final files are written into a hidden staging folder inside the output folder and each is then
moved into place with one rename, so a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..checkpoint import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, atomic_write
from ..errors import OutputExistsError, OutputLockedError

RECORD = ".aezoo-run.json"
LOCK = ".aezoo.lock"
STAGING_PREFIX = ".aezoo-staging-"
STATE_DIR = "training-state"
METRICS_CSV = "metrics.csv"  # one row per epoch, rewritten after each
EVENTS_DIR = "tensorboard"  # TensorBoard event files, when asked for (aezoo.training.events)
OWN_DIRS = frozenset({STATE_DIR, EVENTS_DIR})  # folders a run writes into directly, file by file
# Top-level names a run writes: the checkpoint, and the images the steps write for the card.
OWN_NAMES = frozenset({CONFIG_FILE, WEIGHTS_FILE, CARD_FILE, METRICS_CSV, "samples.png", "before_after.png",
                       "scores.png"})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        return None
    return doc


def _is_legacy_run(folder: Path) -> bool:
    """A folder written by an aezoo that kept no record: an aezoo training state or config.json."""
    latest = folder / STATE_DIR / "latest"
    if latest.is_file():
        try:
            name = latest.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            name = ""
        if name and "/" not in name and (folder / STATE_DIR / name / "state.json").is_file():
            return True
    try:
        doc = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "aezoo_format" in doc and "architecture" in doc


def _shown(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class RunFolder:
    """Claim ``path`` for one run: check whose files are there, lock it, publish the final files.

    Use as a context manager; ``enabled=False`` (ranks other than 0 of a distributed run) does
    nothing."""

    def __init__(self, path: Path, *, overwrite: bool = False, enabled: bool = True) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self.enabled = enabled
        self._lock: Any = None
        self._created = False
        self._lock_existed = True
        self._files: dict[str, str] = {}

    # ---- claiming ---------------------------------------------------------------------------------------

    def __enter__(self) -> RunFolder:
        if not self.enabled:
            return self
        self._check_path()
        if self.path.exists():
            self._check_contents()  # a refused folder gets no lock file either
        else:
            self.path.mkdir(parents=True)
            self._created = True
        self._lock_existed = (self.path / LOCK).exists()
        self._acquire()
        try:
            self._check_contents()  # again, now that no other run can change it
            atomic_write(self.path / RECORD, self._record_bytes())
        except BaseException:
            self._release(failed=True, claimed=False)
            raise
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if self.enabled:
            self._release(failed=kind is not None)

    def _check_path(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise OutputExistsError(
                f"The output folder {self.path} is a file, not a folder.",
                "Pick another output folder (-o DIR); aezoo will not replace the file.",
            )

    def _acquire(self) -> None:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.path / LOCK), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise OutputLockedError(
                f"Another aezoo run is writing to {self.path} (it holds {self.path / LOCK}).",
                "Wait for it to finish, or train into another output folder (-o DIR).",
            ) from None
        self._lock = lock

    def _check_contents(self) -> None:
        entries = sorted(e for e in os.listdir(self.path) if e not in (LOCK, RECORD))
        record = _read_record(self.path)
        owned: frozenset[str] | set[str]
        if record is not None:
            self._files = {k: v for k, v in record["files"].items() if isinstance(k, str) and isinstance(v, str)}
            owned = OWN_DIRS | {k for k, digest in self._files.items() if self._still_ours(k, digest)}
            is_run = True
        elif _is_legacy_run(self.path):
            owned = {e for e in entries if e in OWN_NAMES | OWN_DIRS}
            self._files = {e: _sha256(self.path / e) for e in owned if (self.path / e).is_file()}
            is_run = True
        else:
            owned, is_run = set(), False
        foreign = [e for e in entries if e not in owned and not e.startswith(STAGING_PREFIX)]
        if self.overwrite or not foreign:
            return
        if not is_run:
            raise OutputExistsError(
                f"The output folder {self.path} holds files aezoo did not write ({_shown(foreign)}).",
                "Pick a new or empty folder (-o DIR), or pass --overwrite (overwrite=True) to let aezoo write its "
                "checkpoint there (other files are left as they are).",
            )
        clashing = [e for e in foreign if e in OWN_NAMES | OWN_DIRS]
        if clashing:
            raise OutputExistsError(
                f"The run folder {self.path} holds {_shown(clashing)}, not written by aezoo (or changed since), "
                "where the run would write its own.",
                "Move them away, pick another output folder (-o DIR), or pass --overwrite (overwrite=True) to replace "
                "them.",
            )

    def _still_ours(self, name: str, digest: str) -> bool:
        path = self.path / name
        try:
            return path.is_file() and not path.is_symlink() and _sha256(path) == digest
        except OSError:
            return False

    def _record_bytes(self) -> bytes:
        return (json.dumps({"aezoo_run": 1, "files": dict(sorted(self._files.items()))}, indent=2) + "\n").encode()

    def _release(self, *, failed: bool, claimed: bool = True) -> None:
        """Unlock; after a failure that wrote nothing, leave the folder as it was found (a folder
        this run created is removed again, a lock file it created too)."""
        try:
            if failed and self._created and set(os.listdir(self.path)) <= {LOCK, RECORD}:
                (self.path / RECORD).unlink(missing_ok=True)
                self._unlock()
                (self.path / LOCK).unlink(missing_ok=True)
                self.path.rmdir()
            elif not claimed and not self._lock_existed:
                self._unlock()
                (self.path / LOCK).unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ---- publishing -------------------------------------------------------------------------------------

    def staging(self) -> Path:
        """A fresh hidden folder inside the output folder to write the final files into."""
        return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path))

    def write(self, name: str, data: bytes) -> None:
        """Write one file of the run into the folder now (during training), as ``publish`` does."""
        staged = self.staging()
        (staged / name).write_bytes(data)
        self.publish(staged)

    def publish(self, staged: Path) -> None:
        """Move every file of ``staged`` into the output folder (one rename each), record each as
        aezoo's, and remove the staging folder. A file the output folder holds under the same
        name that aezoo did not write is not replaced (unless ``overwrite``): the run stops with
        the new file kept in the staging folder."""
        names = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
        clashing = [n for n in names if (self.path / n).exists() and not self.overwrite
                    and not (n in self._files and self._still_ours(n, self._files[n]))]
        if clashing:
            raise OutputExistsError(
                f"{self.path} gained {_shown(clashing)} during the run, not written by aezoo; it was left as it is "
                f"and the run's files are kept in {staged}.",
                "Move the files you want from there, or run again with --overwrite (overwrite=True).",
            )
        for name in names:
            source, target = staged / name, self.path / name
            digest = _sha256(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            self._files[name] = digest
        atomic_write(self.path / RECORD, self._record_bytes())
        shutil.rmtree(staged, ignore_errors=True)
