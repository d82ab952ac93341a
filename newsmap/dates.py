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


def span(value: str) -> tuple[str, str]:
    """The first and last day (`YYYY-MM-DD`) a date covers: "2019" -> ("2019-01-01", "2019-12-31").

    The same rule as the store's generated columns `articles.published_from`/`published_to`, so a
    filter's ends and an article's dates compare as text, day by day. DateError for "" or a bad date.
    """
    check_published(value)
    if not value:
        raise DateError(f"a date must be written {FORMAT_HELP}")
    year, _, rest = value.partition("-")
    month, _, day = rest.partition("-")
    if day:
        return value, value
    if month:
        last = calendar.monthrange(int(year), int(month))[1]
        return f"{value}-01", f"{value}-{last:02d}"
    return f"{value}-01-01", f"{value}-12-31"


def date_range(start: str, end: str) -> tuple[str, str] | None:
    """A `from`/`to` filter as the days it keeps, both ends inclusive at their own precision (`to=2019`
    keeps all of 2019): (first day of `start`, last day of `end`), an open end as "" / "9999-12-31";
    None when neither is given. DateError, saying which end, for a bad date or `start` after `end`."""
    if not start and not end:
        return None
    ends = []
    for name, value, which in (("from", start, 0), ("to", end, 1)):
        if not value:
            ends.append(("", "9999-12-31")[which])
            continue
        if not _SHAPE.fullmatch(value):
            raise DateError(f"{name} must be a date written {FORMAT_HELP}, not {value!r}")
        try:
            ends.append(span(value)[which])
        except DateError as error:
            raise DateError(f"{name}: {error}") from None
    if ends[0] > ends[1]:
        raise DateError(f"from ({start}) is after to ({end}): no day is in that range")
    return ends[0], ends[1]
