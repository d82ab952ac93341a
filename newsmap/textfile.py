"""Reading a UTF-8 text file that people hand us: every way it can be unusable, as one line."""

from __future__ import annotations

from pathlib import Path


def read_utf8(
    path: Path,
    *,
    error: type[ValueError],
    missing: str,
    empty: str,
    max_bytes: int | None = None,
    limit_name: str = "",
) -> str:
    """The file's text, or `error` saying in one line why it cannot be used.

    A file over `max_bytes` is refused before it is read (its size from stat, then at most
    `max_bytes + 1` bytes read, in case it grows meanwhile): no input costs more memory than the limit.
    """
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise error(f"{path}: {_size(size)} is more than the {_size(max_bytes)} allowed{_named(limit_name)}")
        with path.open("rb") as handle:
            raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        if max_bytes is not None and len(raw) > max_bytes:
            raise error(f"{path}: more than the {_size(max_bytes)} allowed{_named(limit_name)}")
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a file") from None
    except OSError as os_error:
        raise error(f"{path}: cannot read ({os_error.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as decode_error:
        raise error(
            f"{path}: not UTF-8 text (byte 0x{raw[decode_error.start]:02x} at offset {decode_error.start})"
        ) from None
    if not text.strip():
        raise error(f"{path}: {empty}")
    if "\x00" in text:
        raise error(f"{path}: holds NUL bytes; is it a binary file?")
    return text


def _size(count: int) -> str:
    return f"{round(count / 1e6, 1):g} MB" if count >= 1_000_000 else f"{round(count / 1000, 1):g} KB"


def _named(setting: str) -> str:
    return f" ({setting})" if setting else ""
