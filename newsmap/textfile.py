"""Reading a UTF-8 text file that people hand us: every way it can be unusable, as one line."""

from __future__ import annotations

from pathlib import Path


def read_utf8(path: Path, *, error: type[ValueError], missing: str, empty: str, max_bytes: int | None = None) -> str:
    """The file's text, or `error` saying in one line why it cannot be used."""
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise error(
                f"{path}: {size / 1e6:.1f} MB is more than the {max_bytes / 1e6:g} MB the map serves (NEWSMAP_MAX_CSV_MB)"
            )
        raw = path.read_bytes()
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
