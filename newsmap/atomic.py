"""Crash-safe file replacement: readers (and a crash) see the old files or the new ones, never half.

One file: write a temporary file beside it, fsync, rename over it.

Several files that belong together (the dataset's two tables): write every temporary file,
then a journal naming them, then rename them all, then drop the journal. `recover()` finishes
an interrupted commit from its journal (roll forward), or, with no journal, drops the
temporary files of a write that never got that far (roll back). Either way the files on disk
are one consistent version.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

JOURNAL = ".commit.json"


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync it, then rename it over `path`."""
    commit_files(path.parent, {path.name: data})


def _file_mode() -> int:
    """The mode a plain `open()` would give a new file (0644 under the usual umask 022).

    mkstemp makes 0600 files, which a web server running as another user could not read.
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def _write_temporary(path: Path, data: bytes) -> Path:
    """`data` in a new temporary file beside `path`, on disk; on any failure, no file is left behind.

    An OSError names the file it was writing (a full disk says which folder is full).
    """
    tmp_name = ""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as error:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        if isinstance(error, OSError) and not error.filename:
            raise OSError(error.errno, error.strerror, str(path)) from None
        raise
    return Path(tmp_name)


def replace_file(path: Path, data: bytes) -> None:
    """Replace one file (temporary file beside it, fsync, rename), without `commit_files`' journal.

    For folders that are not newsmap's alone (a static export the user keeps their own files
    in): a `.commit.json` there may be anyone's, so it is neither read nor rolled forward, and
    only this file's own temporaries (`.<name>.*.tmp`) are ever ours to sweep.
    """
    tmp = _write_temporary(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_files(folder: Path, files: dict[str, bytes]) -> None:
    """Replace every named file in `folder` with its new bytes, all or none."""
    recover(folder, [*files, JOURNAL])
    written: dict[str, Path] = {}
    try:
        for name, data in files.items():
            written[name] = _write_temporary(folder / name, data)
    except BaseException:
        for tmp in written.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    if len(files) == 1:
        name, tmp = next(iter(written.items()))
        try:
            os.replace(tmp, folder / name)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return
    journal = folder / JOURNAL
    try:
        journal_tmp = _write_temporary(journal, json.dumps({name: tmp.name for name, tmp in written.items()}).encode())
        os.replace(journal_tmp, journal)
    except BaseException:
        for tmp in written.values():  # no journal: nothing was committed, so nothing may be left
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    _fsync_dir(folder)
    _roll_forward(folder, journal)


def _roll_forward(folder: Path, journal: Path) -> None:
    """Rename what the journal names; a reader and the writer may both do it, in any order."""
    try:
        pending = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return  # someone else finished it
    for name, tmp_name in pending.items():
        with contextlib.suppress(FileNotFoundError):
            os.replace(folder / tmp_name, folder / name)
    _fsync_dir(folder)
    with contextlib.suppress(FileNotFoundError):
        journal.unlink()


def recover(folder: Path, names: list[str] | None = None, *, sweep: bool = True) -> None:
    """Finish a commit a crash interrupted; with `sweep` (writers only), drop orphaned temporaries.

    Readers must not sweep: the temporary files may belong to a build that is still writing.
    """
    journal = folder / JOURNAL
    if journal.exists():
        _roll_forward(folder, journal)
    if not sweep:
        return
    patterns = [f".{name}.*.tmp" for name in names] if names else [".*.tmp"]
    for pattern in patterns:
        for stale in folder.glob(pattern):
            with contextlib.suppress(OSError):
                stale.unlink()
