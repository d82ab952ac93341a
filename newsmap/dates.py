"""Publication dates as newsmap keeps them: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and real ones only.

A date is text so that a partial one ("2019-03") says no more than the source does. Every way in
(seed metadata, the form, the API, a fetched page) goes through `check_published`, so an
impossible date such as 2026-13-45 never reaches the store, where it would sort as the newest.
"""

from __future__ import annotations

import calendar
import re

_SHAPE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
FORMAT_HELP = "YYYY-MM-DD, YYYY-MM or YYYY"


class DateError(ValueError):
    """Not a publication date newsmap can keep; one line for the user."""


def check_published(value: str) -> str:
    """`value` if it is "" or a real date in one of the three shapes; else DateError saying why."""
    if value == "":
        return value
    match = _SHAPE.fullmatch(value)
    if not match:
        raise DateError(f"the date published must be written {FORMAT_HELP}, not {value!r}")
    year, month, day = (int(part) if part else None for part in match.groups())
    if year is None or year < 1:
        raise DateError(f"{value!r} has no year 0: write {FORMAT_HELP}")
    if month is not None and not 1 <= month <= 12:
        raise DateError(f"{value!r} is not a date: the month must be 01 to 12")
    if day is not None and month is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise DateError(f"{value!r} is not a date: {calendar.month_name[month]} {year} has no day {day}")
    return value


def is_published(value: str) -> bool:
    """Whether `value` is a date `check_published` accepts (the empty string included)."""
    try:
        check_published(value)
    except DateError:
        return False
    return True
