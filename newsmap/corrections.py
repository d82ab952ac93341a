"""Corrections: what editors change in an article's places and mentions, applied on top of what the
geoparser found.

An article's current rows are its geoparsed rows (the *baseline*) with every active correction
applied in order (`materialise`). A correction is one append-only row: a target (`place:<id>` or
`mention:<start>-<end>`), a field, the old and new values, who, when and why. Undo and revert
append a row too (`reverts`): the reverted correction and its revert then drop out of the replay,
and reverting the revert brings it back. Nothing is ever edited in place.

Re-geoparsing replaces only the baseline: every correction is replayed on the new rows, and the
ones whose target is gone are reported (`Materialised.skipped`) instead of being dropped.

Pure functions on plain rows, shared by the store (which applies them inside its write
transaction) and both sides; nothing here reads a file or the network.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmap.article import Article, quote_window
from newsmap.dataset import encode_csv, quote_core, read_csv
from newsmap.geo import compass_direction, haversine_km
from newsmap.schema import ROW_PRECISIONS
from newsmap.slugs import slugify

PLACE_TEXT_FIELDS = ("name", "kind", "category", "status")
PLACE_FIELDS = (*PLACE_TEXT_FIELDS, "location", "removed", "created")
MENTION_OPERATIONS = ("added", "removed")
ROLES = ("toponym", "facility", "route", "adjective", "organisation")
MAX_TEXT = 200  # characters of a name, kind, category or status
MAX_NOTE = 1000
MAX_SOURCE = 600  # a curated row's citation can be long
MAX_MENTION = 300  # characters of a mention an editor adds
CORRECTED = "; corrected by "  # what `source` adds for each change an editor made to the row
MOVED = "; moved by "  # ...and for each change of its point
BY_HAND = "placed by hand"
POINT_APPLIED = ("lat", "lon", "precision", "country")  # what choosing a point changes: never the name or kind
CONTEXT_REACH_KM = 100.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPAN = re.compile(r"(\d{1,9})-(\d{1,9})")


class CorrectionError(ValueError):
    """A correction that cannot be made, with the HTTP status an API answers it with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Correction:
    """One row of the corrections table (`seq` 0 until stored)."""

    target: str
    field: str
    new: Any = None
    old: Any = None
    editor: str = ""
    note: str = ""
    at: str = ""
    seq: int = 0
    action: int = 0  # the seq of the first row of the change it belongs to (one undo step)
    reverts: int = 0  # the seq of the correction this row reverts, 0 for none
    uid: str = ""  # stable across databases: how a seed's corrections file is imported once

    @property
    def place_id(self) -> str:
        return self.target.removeprefix("place:") if self.target.startswith("place:") else ""

    @property
    def span(self) -> tuple[int, int] | None:
        return parse_span(self.target.removeprefix("mention:")) if self.target.startswith("mention:") else None


def parse_span(text: str) -> tuple[int, int] | None:
    match = _SPAN.fullmatch(text)
    return (int(match[1]), int(match[2])) if match else None


def mention_target(start: int, end: int) -> str:
    return f"mention:{start}-{end}"


@dataclass
class Materialised:
    places: list[dict[str, Any]]
    mentions: list[dict[str, Any]]
    applied: list[int] = field(default_factory=list)  # seqs of the corrections that apply
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (seq, why) of those that could not
    errors: dict[int, CorrectionError] = field(default_factory=dict)  # the same, with their HTTP status


def counting(corrections: Iterable[Correction]) -> dict[int, bool]:
    """{seq: whether it counts}: a correction counts unless a revert that counts reverts it.

    A revert always comes after what it reverts, so one pass from the newest settles it.
    """
    ordered = sorted(corrections, key=lambda c: c.seq)
    reverted_by: dict[int, list[int]] = {}
    for correction in ordered:
        if correction.reverts:
            reverted_by.setdefault(correction.reverts, []).append(correction.seq)
    counts: dict[int, bool] = {}
    for correction in reversed(ordered):
        counts[correction.seq] = not any(counts.get(r, False) for r in reverted_by.get(correction.seq, ()))
    return counts


def active(corrections: Iterable[Correction]) -> list[Correction]:
    """The changes that apply, in order: every correction that counts, reverts aside."""
    ordered = sorted(corrections, key=lambda c: c.seq)
    counts = counting(ordered)
    return [c for c in ordered if not c.reverts and counts[c.seq]]


def materialise(
    article: Article, places: list[dict[str, Any]], mentions: list[dict[str, Any]], corrections: Iterable[Correction]
) -> Materialised:
    """The article's rows: its geoparsed rows with the active corrections applied in order.

    Without corrections the rows come back unchanged (same order, same values).
    """
    todo = active(corrections)
    if not todo:
        return Materialised(places, mentions)
    state = _State(article, copy.deepcopy(places), copy.deepcopy(mentions))
    result = Materialised([], [])
    for correction in todo:
        try:
            state.apply(correction)
        except CorrectionError as error:
            result.skipped.append((correction.seq, str(error)))
            result.errors[correction.seq] = error
        else:
            result.applied.append(correction.seq)
    result.places, result.mentions = state.finish()
    return result


class _State:
    """Rows being corrected: places by id (in order), mentions, and which places need new derived values."""

    def __init__(self, article: Article, places: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> None:
        self.article = article
        self.places = {place["id"]: place for place in places}
        self.mentions = mentions
        self.touched: set[str] = set()  # places whose mentions changed: quote and count again
        self.moved: set[str] = set()  # places whose point changed: context again
        self.created: set[str] = set()  # places an editor added: placed among the others by their first mention
        self.marked: dict[str, int] = {}  # place id -> the change (action) its source last told of

    def apply(self, correction: Correction) -> None:
        if correction.place_id:
            self._place(correction.place_id, correction)
        elif correction.span is not None:
            self._mention(correction.span, correction)
        else:
            raise CorrectionError(f"unknown target {correction.target!r}")

    def _place(self, place_id: str, c: Correction) -> None:
        if c.field == "created":
            if place_id in self.places:
                raise CorrectionError(f"a place with id {place_id!r} exists already", 409)
            self._insert(new_place_row(place_id, self.article.slug, c.new))
            self._mark(self.places[place_id], c)
            self.moved.add(place_id)
            return
        place = self.places.get(place_id)
        if place is None:
            raise CorrectionError(f"no place {place_id!r} in this article", 404)
        if c.field == "removed":
            del self.places[place_id]
            self.mentions = [m for m in self.mentions if m["place_id"] != place_id]
        elif c.field in PLACE_TEXT_FIELDS:
            place[c.field] = check_text(c.field, c.new, required=c.field in ("name", "category"))
            self._mark(place, c)
        elif c.field == "location":
            point = check_location(c.new)
            place.update({key: point[key] for key in POINT_APPLIED if key in point})
            self._mark(place, c, moved_to=point.get("source") or f"a point {BY_HAND}")
            self.moved.add(place_id)
        else:
            raise CorrectionError(f"a place has no field {c.field!r}: one of {', '.join(PLACE_FIELDS)}", 400)

    def _insert(self, row: dict[str, Any]) -> None:
        self.places[row["id"]] = row
        self.touched.add(row["id"])
        self.created.add(row["id"])

    def _mark(self, place: dict[str, Any], c: Correction, moved_to: str = "") -> None:
        """`source` keeps where the row came from and tells every change to it in order: who, when,
        why, and for a new point where that came from. One change (an action of several fields)
        is told once; a new point is told even within a change that was told already."""
        if self.marked.get(place["id"]) == (c.action or c.seq) and not moved_to:
            return
        self.marked[place["id"]] = c.action or c.seq
        note = " ".join(c.note.split())
        who = f"{c.editor or 'an editor'} on {c.at[:10]}"
        told = f"{MOVED}{who} to {moved_to}" if moved_to else f"{CORRECTED}{who}"
        place["source"] = f"{place['source']}{told}" + (f": {note}" if note else "")

    def _mention(self, span: tuple[int, int], c: Correction) -> None:
        start, end = span
        if c.field == "added":
            new = c.new if isinstance(c.new, dict) else {}
            place_id = new.get("place")
            if not isinstance(place_id, str) or place_id not in self.places:
                raise CorrectionError(f"no place {place_id!r} in this article to link the mention to", 404)
            role = new.get("role") or "toponym"
            if role not in ROLES:
                raise CorrectionError(f"role must be one of {', '.join(ROLES)}", 400)
            self.mentions.append(new_mention_row(self.article, start, end, place_id, role, self.mentions))
            self.touched.add(place_id)
            self._mark(self.places[place_id], c)
        elif c.field == "removed":
            old_place = c.old.get("place") if isinstance(c.old, dict) else None
            found = [m for m in self.mentions if (m["start"], m["end"]) == span]
            found = [m for m in found if m["place_id"] == old_place] or found
            if not found:
                raise CorrectionError(f"no mention at characters {start}-{end}", 404)
            self.mentions.remove(found[0])
            self.touched.add(found[0]["place_id"])
            self._mark(self.places[found[0]["place_id"]], c)
        else:
            raise CorrectionError(f"a mention can only be {' or '.join(MENTION_OPERATIONS)}, not {c.field!r}", 400)

    def finish(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The rows: places without a mention left go, counts, quotes and contexts are brought up to date."""
        by_place: dict[str, list[dict[str, Any]]] = {}
        for mention in self.mentions:
            by_place.setdefault(mention["place_id"], []).append(mention)
        places = [p for p in self.places.values() if p["id"] in by_place]
        for place in places:
            own = sorted(by_place[place["id"]], key=lambda m: m["start"])
            place["mentions"] = len(own)
            if place["id"] in self.touched:
                refresh_quote(self.article, place, own)
        for place in places:
            if place["id"] in self.moved:
                place["context"] = context_near(place, places)
        first = {pid: min(m["start"] for m in own) for pid, own in by_place.items()}
        created = [p for p in places if p["id"] in self.created]
        ordered = [p for p in places if p["id"] not in self.created]
        for place in sorted(created, key=lambda p: first[p["id"]]):
            at = next((i for i, other in enumerate(ordered) if first[other["id"]] > first[place["id"]]), len(ordered))
            ordered.insert(at, place)
        mentions = sorted(self.mentions, key=lambda m: (m["start"], -m["end"], m["place_id"]))
        return ordered, mentions


def refresh_quote(article: Article, place: dict[str, Any], own: list[dict[str, Any]]) -> None:
    """Keep the quote while one of the place's sentences still holds it; else quote its first naming."""
    sentences = {m["sentence"] for m in own}
    core = quote_core(place.get("quote") or "")
    if core and any(core in article.sentence_text(article.sentences[s]) for s in sentences):
        return
    named = [m for m in own if m["role"] != "adjective"] or own
    focus = named[0]
    place["quote"] = quote_window(article, article.sentences[focus["sentence"]], focus["start"], focus["end"])
    if not place.get("article_name"):
        place["article_name"] = " ".join(focus["text"].split())


def new_place_row(place_id: str, slug: str, new: Any) -> dict[str, Any]:
    """A place an editor added: its point (checked) and what they said it is."""
    if not isinstance(new, dict):
        raise CorrectionError("a new place needs at least a name, a latitude and a longitude", 400)
    point = check_location(new)
    return {
        "id": place_id,
        "name": check_text("name", new.get("name"), required=True),
        "article_name": "",
        "kind": check_text("kind", new.get("kind") or "place"),
        "category": check_text("category", new.get("category") or "other mentioned place", required=True),
        "status": check_text("status", new.get("status") or ""),
        "lat": point["lat"],
        "lon": point["lon"],
        "precision": point.get("precision", "manual"),
        "quote": "",
        "mentions": 0,
        "source": point.get("source") or BY_HAND,
        "article": slug,
        "country": point.get("country", ""),
        "context": "",
        # what it is across the library: the entry it was made from, else the editor's own point
        "key": point.get("candidate") or f"hand:{slug}/{place_id}",
    }


def new_mention_row(
    article: Article, start: int, end: int, place_id: str, role: str, others: list[dict[str, Any]]
) -> dict[str, Any]:
    """A mention an editor marked: inside the text and one sentence, not overlapping another mention."""
    check_span(article, start, end)
    for other in others:
        if start < other["end"] and other["start"] < end:
            raise CorrectionError(
                f"characters {start}-{end} overlap the mention “{other['text']}” ({other['start']}-{other['end']})", 409
            )
    sentence = article.sentence_at(start)
    return {
        "place_id": place_id,
        "article": article.slug,
        "role": role,
        "sentence": sentence.index,
        "sentence_start": sentence.start,
        "sentence_end": sentence.end,
        "start": start,
        "end": end,
        "text": article.text[start:end],
    }


def check_span(article: Article, start: int, end: int, text: str | None = None) -> None:
    """A span of the article's text that can be a mention, or CorrectionError saying why not."""
    if not 0 <= start < end <= len(article.text):
        raise CorrectionError(f"characters {start}-{end} are not inside the article's {len(article.text)}")
    if end - start > MAX_MENTION:
        raise CorrectionError(f"a mention is at most {MAX_MENTION} characters")
    chosen = article.text[start:end]
    if text is not None and chosen != text:
        raise CorrectionError(f"characters {start}-{end} say “{chosen[:60]}”, not “{text[:60]}”")
    if chosen != chosen.strip() or not chosen.strip():
        raise CorrectionError("a mention starts and ends with a letter, not a space")
    try:
        sentence = article.sentence_at(start)
    except ValueError:
        raise CorrectionError(f"characters {start}-{end} are outside every sentence") from None
    if end > sentence.end:
        raise CorrectionError("a mention lies inside one sentence")


def check_text(name: str, value: Any, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CorrectionError(f"{name} must be text", 400)
    value = " ".join(value.split())
    if _CONTROL.search(value):
        raise CorrectionError(f"{name} must not hold control characters", 400)
    if len(value) > limit:
        raise CorrectionError(f"{name} is longer than {limit} characters", 400)
    if required and not value:
        raise CorrectionError(f"{name} must not be empty", 400)
    return value


def check_note(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorrectionError("note must be text", 400)
    if len(value) > MAX_NOTE:
        raise CorrectionError(f"note is longer than {MAX_NOTE} characters", 400)
    return " ".join(_CONTROL.sub(" ", value).split())


def check_location(value: Any) -> dict[str, Any]:
    """`{"lat", "lon"}` and optionally precision, name, kind, country and source, checked."""
    if not isinstance(value, dict):
        raise CorrectionError('a point is {"lat": ..., "lon": ...}', 400)
    point: dict[str, Any] = {}
    for key, low, high in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise CorrectionError(f"{key} must be a number", 400)
        if not (math.isfinite(number) and low <= number <= high):
            raise CorrectionError(f"{key} {number} is outside [{low:g}, {high:g}]")
        point[key] = round(float(number), 5)
    precision = value.get("precision", "manual")
    if precision not in ROW_PRECISIONS:
        raise CorrectionError(f"precision must be one of {', '.join(ROW_PRECISIONS)}", 400)
    point["precision"] = precision
    for key in ("name", "kind", "source", "candidate"):  # candidate: the gazetteer key the point was chosen from
        if value.get(key):
            point[key] = check_text(key, value[key], required=True, limit=MAX_SOURCE if key == "source" else MAX_TEXT)
    if "country" in value:
        country = value["country"] or ""
        if not (isinstance(country, str) and re.fullmatch(r"([A-Z]{2})?", country)):
            raise CorrectionError("country must be an ISO 3166-1 alpha-2 code such as KG, or empty", 400)
        point["country"] = country
    return point


def new_place_id(name: str, taken: Iterable[str]) -> str:
    """An id for a place an editor adds: its name's slug, numbered when the article has it already."""
    used = set(taken)
    base = slugify(name)[:60].strip("-") or "place"
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def context_near(place: dict[str, Any], places: list[dict[str, Any]]) -> str:
    """ "12 km NE of Bishkek" against the nearest other settlement the article names, for a point an
    editor moved (the build's own context also knows the gazetteer's cities; this needs no gazetteer)."""
    if place["precision"] not in ("facility", "settlement", "manual"):
        return ""
    best: tuple[float, str, dict[str, Any]] | None = None
    for other in places:
        if other["id"] == place["id"] or other["precision"] != "settlement":
            continue
        km = haversine_km(place["lat"], place["lon"], other["lat"], other["lon"])
        if 1.0 < km <= CONTEXT_REACH_KM and (best is None or (km, other["id"]) < best[:2]):
            best = (km, other["id"], other)
    if best is None:
        return ""
    km, _, other = best
    return f"{km:.0f} km {compass_direction(other['lat'], other['lon'], place['lat'], place['lon'])} of {other['name']}"


# The columns of corrections.csv (the download) and of a seed's `<slug>.corrections.csv`.
CORRECTION_FIELDS = (
    "seq",
    "uid",
    "action",
    "target",
    "field",
    "old",
    "new",
    "editor",
    "at",
    "note",
    "reverts",
    "state",
)


def correction_records(corrections: list[Correction], skipped: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """One record per correction (old and new as JSON text) with its state now: "applied",
    "reverted", "reverts #N", or "not applied: <why>". The history's rows."""
    counts, why = counting(corrections), dict(skipped)

    def state(c: Correction) -> str:
        if c.seq in why:
            return f"not applied: {why[c.seq]}"
        if not counts[c.seq]:
            return "reverted"
        return f"reverts #{c.reverts}" if c.reverts else "applied"

    return [
        {
            "seq": c.seq, "uid": c.uid, "action": c.action, "target": c.target, "field": c.field,
            "old": json.dumps(c.old, ensure_ascii=False), "new": json.dumps(c.new, ensure_ascii=False),
            "editor": c.editor, "at": c.at, "note": c.note, "reverts": c.reverts, "state": state(c),
        }
        for c in corrections
    ]  # fmt: skip


def correction_from_record(record: dict[str, str]) -> Correction:
    """A correction read back from a corrections file (CorrectionError for a malformed row)."""

    if any(not isinstance(record.get(key), str) for key in ("target", "field", "old", "new", "editor", "at", "uid")):
        raise CorrectionError("not a correction row: it needs target, field, old, new, editor, at and uid", 400)
    try:
        return Correction(
            target=record["target"], field=record["field"], old=json.loads(record["old"] or "null"),
            new=json.loads(record["new"] or "null"), editor=record["editor"], note=record.get("note") or "",
            at=record["at"], seq=int(record["seq"]), action=int(record["action"] or 0),
            reverts=int(record.get("reverts") or 0), uid=record["uid"],
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as error:
        raise CorrectionError(f"not a correction row ({error.__class__.__name__}: {error})", 400) from None
    except RecursionError:  # JSON nested deeper than the parser goes
        raise CorrectionError("old or new is nested too deep", 400) from None


# --------------------------------------------------------------------------- a seed's corrections file

CORRECTIONS_SUFFIX = ".corrections.csv"  # seeds/<slug>.corrections.csv: the editors' corrections a seed ships with
CORRECTIONS_MAX_BYTES = 20_000_000


def corrections_file(seeds_dir: Path, slug: str) -> Path:
    """Where a seed's corrections live: `<seeds>/<slug>.corrections.csv`, beside `<slug>.txt`
    (`find_articles` takes only `*.txt`, so the file is never read as an article)."""
    return seeds_dir / f"{slug}{CORRECTIONS_SUFFIX}"


def encode_corrections(corrections: list[Correction], skipped: list[tuple[int, str]]) -> bytes:
    """A corrections file's bytes (`CORRECTION_FIELDS`), without the spreadsheet formula escape:
    the file is read back by `read_corrections`, and a note must come back exactly as written."""
    return encode_csv(correction_records(corrections, skipped), CORRECTION_FIELDS, formula_safe=False)


def read_corrections(path: Path) -> list[Correction]:
    """The corrections of a seed's corrections file, oldest first; CorrectionError (which row, and
    why) or DatasetError (one line) for a file that is not one: a correction once imported is kept
    for good, so a file with one bad row is not imported at all."""
    fields, records = read_csv(path, CORRECTIONS_MAX_BYTES)
    missing = [name for name in CORRECTION_FIELDS if name not in fields and name not in ("note", "reverts", "state")]
    if missing:
        raise CorrectionError(f"missing columns {', '.join(missing)}", 400)
    rows: list[Correction] = []
    uids: set[str] = set()
    seqs: set[int] = set()
    for number, record in enumerate(records, start=1):
        try:
            correction = _checked_correction(record)
            if correction.uid in uids or correction.seq in seqs:
                raise CorrectionError(f"seq {correction.seq} or uid {correction.uid!r} is another row's too", 400)
        except CorrectionError as error:
            raise CorrectionError(f"row {number}: {error}", 400) from None
        uids.add(correction.uid)
        seqs.add(correction.seq)
        rows.append(correction)
    return sorted(rows, key=lambda c: c.seq)


def _checked_correction(record: dict[str, str]) -> Correction:
    """One row of a corrections file, refused when it could never apply or would be imported again."""
    if None in record or any(value is None for value in record.values()):
        raise CorrectionError("its cells do not match the header's columns", 400)
    correction = correction_from_record(record)
    if correction.seq <= 0:
        raise CorrectionError(f"seq must be a positive number, not {correction.seq}", 400)
    check_correction(correction)
    return correction


def check_correction(correction: Correction) -> None:
    """A row the table may hold: a uid, and a field its target has (the table keeps a row for good)."""
    if not correction.uid.strip():
        raise CorrectionError("no uid (without one it would be imported again by every build)", 400)
    allowed = PLACE_FIELDS if correction.place_id else MENTION_OPERATIONS if correction.span else ()
    if not allowed:
        raise CorrectionError(f"target {correction.target!r} is neither place:<id> nor mention:<start>-<end>", 400)
    if correction.field not in allowed:
        raise CorrectionError(f"{correction.target} has no field {correction.field!r}", 400)
