"""Editing routes (a Blueprint): editors correct an article's places and mentions, in its page or by API.

Each change is planned against the article's current rows and appended to the corrections table
in one transaction (`Store.correct`); the article's rows are then its geoparse with every
correction applied, so the page, downloads and API show it at once (the article's version moved
on). A change that cannot apply is refused whole with a one-line message and changes nothing.

Two editors saving the same place: a change to an existing place or mention (PATCH, DELETE) must
send `If-Match` with the place's ETag, as `GET /api/articles/<slug>/places/<id>` gives it (428
without it); it is checked inside that transaction, and the second save gets 409 with the place
as it is now. The page always sends it. Creations, undo and revert have their own checks.

Candidates and gazetteer search need the gazetteer, which the serve side never imports: the
app's composition root (`newsmap.wsgi`) hands `create_app` a `Lookup` that loads it on first use
(`newsmap.library.lookup`), so reading never loads it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Protocol

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_wtf.csrf import generate_csrf

from newsmap.article import Article
from newsmap.corrections import (
    PLACE_TEXT_FIELDS,
    Correction,
    CorrectionError,
    check_location,
    check_note,
    check_span,
    check_text,
    correction_records,
    counting,
    mention_target,
    new_place_id,
    parse_span,
)
from newsmap.countries import country_at
from newsmap.schema import ROW_PRECISIONS
from newsmap.serve import auth, bodies
from newsmap.serve.assets import content_etag
from newsmap.serve.site import Site, place_document

LOOKUP = "newsmap.lookup"  # app.extensions key: the Lookup the app was given, if any
PATCH_FIELDS = (*PLACE_TEXT_FIELDS, "precision", "lat", "lon", "candidate", "note")
NEW_PLACE_FIELDS = ("name", "kind", "category", "status", "precision", "lat", "lon", "candidate")
POINT_KEYS = ("lat", "lon", "precision", "country", "source")  # a chosen point: never the place's name or kind

bp = Blueprint("editing", __name__)
Rows = list[dict[str, Any]]


def site() -> Site:
    return current_app.extensions["newsmap"]


class Lookup(Protocol):
    """What the editing page asks the gazetteer, as plain JSON-able dicts (`newsmap.library.lookup`
    answers it; `create_app` is given one, so this side never imports the gazetteer)."""

    def candidates(
        self, names: list[str], lat: float | None = None, lon: float | None = None, limit: int = 20
    ) -> list[dict[str, Any]]: ...

    def search(
        self, query: str, lat: float | None = None, lon: float | None = None, limit: int = 20
    ) -> dict[str, Any]: ...

    def place_for_key(self, key: str, lat: float | None = None, lon: float | None = None) -> dict[str, Any] | None: ...


def lookup() -> Lookup:
    """The app's Lookup; 503 when it was created without one (`newsmap.serve.create_app` alone)."""
    found = current_app.extensions.get(LOOKUP)
    if found is None:
        abort(503, description="This server has no gazetteer to ask: start it with `newsmap run` or `newsmap serve`.")
    return found


class Conflict(CorrectionError):
    """The place changed since the editor read it: 409 with the place as it is now."""

    def __init__(self, message: str, current: bytes) -> None:
        super().__init__(message, 409)
        self.current = current


def require_match(place: dict[str, Any], mentions: Rows) -> None:
    """Refuse a change to an existing place or its mentions without `If-Match` (428), and with
    Conflict when it is not the place's current ETag: a blind write would silently undo another's."""
    if not request.headers.get("If-Match"):
        raise CorrectionError(
            f"Send If-Match with the ETag of “{place['name']}” as you read it "
            f"(GET /api/articles/<slug>/places/{place['id']} gives it), so that no one's change is overwritten unseen.",
            428,
        )
    document = place_document(place, [m for m in mentions if m["place_id"] == place["id"]])
    tag = content_etag(document)
    wanted = request.if_match
    if wanted.star_tag or wanted.contains_weak(tag) or wanted.contains_weak(f"{tag}-gz"):
        return
    raise Conflict(
        f"“{place['name']}” was changed by someone else since you loaded it: "
        "here it is as it is now; apply your change to it again if it is still needed.",
        document,
    )


def json_body(allowed: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object (empty for a bodiless DELETE), with only known fields."""
    if not request.get_data(cache=True):
        body: Any = {}
    else:
        body = bodies.json_body()
        if not isinstance(body, dict):
            abort(400, description="The body must be a JSON object.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        abort(400, description=f"Unknown field {unknown[0]!r}: the fields are {', '.join(allowed)}.")
    return body


def note_only() -> str:
    """The note of a request that carries nothing else (a removal, undo, revert): `{"note"}` or `?note=`."""
    return _checked(check_note, json_body(("note",)).get("note") or request.args.get("note"))


def find_place(places: Rows, place_id: str) -> dict[str, Any]:
    place = next((p for p in places if p["id"] == place_id), None)
    if place is None:
        raise CorrectionError(f"No place with id {place_id!r} in this article.", 404)
    return place


def candidate_entry(key: Any) -> dict[str, Any]:
    """The gazetteer entry an editor chose by its key (as the candidates list gives it)."""
    if not isinstance(key, str) or not key:
        abort(400, description="candidate must be a gazetteer key, as the candidates list gives it.")
    found = lookup().place_for_key(key)
    if not found:
        abort(422, description=f"No gazetteer entry {key!r}.")
    return found


def candidate_point(key: Any, found: dict[str, Any] | None = None) -> dict[str, Any]:
    """A chosen entry as a point (with its country, source and key): where the place is, not what it is."""
    found = found or candidate_entry(key)
    return check_location({**{k: found[k] for k in POINT_KEYS if k in found}, "candidate": key})


def requested_point(body: dict[str, Any]) -> dict[str, Any] | None:
    """Where the request puts the place: a candidate, or a point (`precision` defaults to manual)."""
    if "candidate" in body:
        point = candidate_point(body["candidate"])
        if "precision" in body:
            point["precision"] = body["precision"]
        return check_location(point)
    if "lat" in body or "lon" in body:
        point = check_location(
            {"lat": body.get("lat"), "lon": body.get("lon"), "precision": body.get("precision", "manual")}
        )
        return {**point, "country": country_at(point["lat"], point["lon"])}
    return None


def place_changes(
    place: dict[str, Any], body: dict[str, Any], point: dict[str, Any] | None, note: str
) -> list[Correction]:
    """The rows a PATCH makes: one per field whose value changes (a point first, then the texts)."""
    target = f"place:{place['id']}"
    rows = []
    if point is None and "precision" in body:
        point = check_location({"lat": place["lat"], "lon": place["lon"], "precision": body["precision"]})
    if point is not None and any(point[key] != place.get(key) for key in point if key != "candidate"):
        old = {key: place[key] for key in POINT_KEYS}
        rows.append(Correction(target, "location", point, old, note=note))
    for field in PLACE_TEXT_FIELDS:
        if field in body:
            new = check_text(field, body[field], required=field in ("name", "category"))
            if new != (point or {}).get(field, place[field]):
                rows.append(Correction(target, field, new, place[field], note=note))
    return rows


def answer(
    slug: str,
    plan: Callable[[Article, Rows, Rows], list[Correction]],
    focus: Callable[[], str] = lambda: "",
    status: int = 200,
) -> Response:
    """Run a change; its answer: the rows stored and the place it touched as it is now (with its
    ETag and Location). `focus` names that place once the plan ran (else the first place changed)."""
    try:
        done = site().store().correct(slug, plan, editor=auth.current_editor() or "")
    except Conflict as conflict:
        response = jsonify(error="Conflict", status=409, message=str(conflict), current=json.loads(conflict.current))
        response.status_code = 409
        response.set_etag(content_etag(conflict.current))
        return response
    except CorrectionError as error:
        abort(error.status, description=_sentence(str(error)))
    records = correction_records(done.corrections, [])
    body: dict[str, Any] = {"version": done.version, "corrections": records}
    focused = focus() or next((c.place_id for c in done.corrections if c.place_id), "")
    place = next((p for p in done.places if p["id"] == focused), None)
    document = b""
    if place is not None:
        document = place_document(place, [m for m in done.mentions if m["place_id"] == focused])
        body["place"] = json.loads(document)
    response = jsonify(body)
    if document:
        response.set_etag(content_etag(document))
        response.headers["Location"] = f"/api/articles/{slug}/places/{focused}"
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?", ")")) else message + "."


# --------------------------------------------------------------------------- places


@bp.patch("/api/articles/<slug>/places/<place_id>")
@auth.editor_required
@auth.edit_limit
def patch_place(slug: str, place_id: str) -> Response:
    """`{name, kind, category, status}`, a point `{lat, lon[, precision]}` or `{candidate: key}`, and a note."""
    body = json_body(PATCH_FIELDS)
    note = _checked(check_note, body.get("note"))
    point = _checked(requested_point, body)

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        place = find_place(places, place_id)
        require_match(place, mentions)
        return place_changes(place, body, point, note)

    return answer(slug, plan, lambda: place_id)


@bp.delete("/api/articles/<slug>/places/<place_id>")
@auth.editor_required
@auth.edit_limit
def delete_place(slug: str, place_id: str) -> Response:
    """Not a place: it leaves the map and its mentions stop being links (the text stays)."""
    note = note_only()

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        place = find_place(places, place_id)
        require_match(place, mentions)
        own = [m for m in mentions if m["place_id"] == place_id]
        return [Correction(f"place:{place_id}", "removed", None, {"place": place, "mentions": own}, note=note)]

    return answer(slug, plan)


# --------------------------------------------------------------------------- mentions


@bp.post("/api/articles/<slug>/mentions")
@auth.editor_required
@auth.edit_limit
def add_mention(slug: str) -> Response:
    """`{start, end, text?, place, note?}`: `place` is a place's id, or a new place
    `{candidate: key}` or `{name, lat, lon, kind?, category?, status?, precision?}`."""
    body = json_body(("start", "end", "text", "place", "role", "note"))
    note = _checked(check_note, body.get("note"))
    start, end = body.get("start"), body.get("end")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        abort(400, description="start and end must be whole numbers: character offsets into the article's text.")
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        abort(400, description="text must be text: the words at start-end, to check the offsets.")
    role = body.get("role", "toponym")
    spec = body.get("place")
    new_place = _checked(_new_place, spec) if isinstance(spec, dict) else None
    if new_place is None and not isinstance(spec, str):
        abort(400, description="place must be a place's id, or a new place {candidate} or {name, lat, lon}.")
    chosen: dict[str, str] = {}

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        check_span(article, start, end, text)
        target = mention_target(start, end)
        if new_place is None:
            chosen["id"] = find_place(places, spec)["id"]
            return [Correction(target, "added", {"place": chosen["id"], "role": role}, None, note=note)]
        named = {**new_place, "name": new_place.get("name") or " ".join(article.text[start:end].split())}
        chosen["id"] = new_place_id(named["name"], (p["id"] for p in places))
        return [
            Correction(f"place:{chosen['id']}", "created", named, None, note=note),
            Correction(target, "added", {"place": chosen["id"], "role": role}, None, note=note),
        ]

    return answer(slug, plan, lambda: chosen.get("id", ""), status=201)


def _new_place(spec: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(spec) - set(NEW_PLACE_FIELDS))
    if unknown:
        raise CorrectionError(
            f"a new place has no field {unknown[0]!r}: its fields are {', '.join(NEW_PLACE_FIELDS)}", 400
        )
    if "candidate" in spec:
        found = candidate_entry(spec["candidate"])
        point = candidate_point(spec["candidate"], found)
        point.update({k: found[k] for k in ("name", "kind") if found.get(k)})  # a new place is what the entry is
    else:
        point = check_location(spec)
        point["country"] = country_at(point["lat"], point["lon"])
    if "precision" in spec:
        point["precision"] = spec["precision"]
    new = {**point, **{k: spec[k] for k in ("name", "kind", "category", "status") if k in spec}}
    return {**new, **check_location(new)}


@bp.delete("/api/articles/<slug>/mentions/<mention>")
@auth.editor_required
@auth.edit_limit
def delete_mention(slug: str, mention: str) -> Response:
    """`<n>` is the mention's place in the article's list (from 0), or its span `<start>-<end>`."""
    note = note_only()

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        found = _find_mention(mentions, mention)
        place = find_place(places, found["place_id"])
        require_match(place, mentions)
        old = {"place": found["place_id"], "role": found["role"], "text": found["text"]}
        return [Correction(mention_target(found["start"], found["end"]), "removed", None, old, note=note)]

    return answer(slug, plan)


def _find_mention(mentions: Rows, key: str) -> dict[str, Any]:
    span = parse_span(key)
    if span is not None:
        found = next((m for m in mentions if (m["start"], m["end"]) == span), None)
    elif key.isdigit() and int(key) < len(mentions):
        found = mentions[int(key)]
    else:
        found = None
    if found is None:
        raise CorrectionError(f"No mention {key!r} in this article (a number from 0, or <start>-<end>).", 404)
    return found


# --------------------------------------------------------------------------- undo and revert


@bp.post("/api/articles/<slug>/corrections/<int:seq>/revert")
@auth.editor_required
@auth.edit_limit
def revert(slug: str, seq: int) -> Response:
    """Revert the change correction `seq` belongs to (reverting a revert redoes the change)."""
    note = note_only()

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        history = site().store().corrections(slug)
        row = next((c for c in history if c.seq == seq), None)
        if row is None:
            raise CorrectionError(f"No correction #{seq} in this article.", 404)
        return _reverting(history, row.action, note or f"revert of #{row.action}")

    return answer(slug, plan)


@bp.post("/api/articles/<slug>/undo")
@auth.editor_required
@auth.edit_limit
def undo(slug: str) -> Response:
    """Undo the latest change this editor made to the article that still counts."""
    note = note_only()
    editor = auth.current_editor() or ""

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        history = site().store().corrections(slug)
        counts = counting(history)
        mine = [c for c in history if c.editor == editor and not c.reverts and counts[c.seq]]
        if not mine:
            raise CorrectionError("Nothing of yours to undo in this article.", 409)
        action = max(c.action for c in mine)
        return _reverting(history, action, note or f"undo of #{action}")

    return answer(slug, plan)


def _reverting(history: list[Correction], action: int, note: str) -> list[Correction]:
    counts = counting(history)
    rows = [c for c in history if c.action == action]
    if not all(counts[c.seq] for c in rows):
        raise CorrectionError(f"Change #{action} is reverted already.", 409)
    return [Correction(c.target, c.field, c.old, c.new, note=note, reverts=c.seq) for c in reversed(rows)]


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except CorrectionError as error:
        abort(error.status, description=_sentence(str(error)))


# --------------------------------------------------------------------------- the gazetteer


@bp.get("/api/articles/<slug>/places/<place_id>/candidates")
@auth.editor_required
def candidates(slug: str, place_id: str) -> Response:
    """The gazetteer's entries for every name the article gives the place, nearest to it marked."""
    store = site().store()
    place = next((p for p in store.places(slug) if p["id"] == place_id), None)
    if place is None:
        abort(404, description=f"No place with id {place_id!r} in article {slug!r}.")
    texts = [m["text"] for m in store.mentions(slug) if m["place_id"] == place_id and m["role"] == "toponym"]
    names = list(dict.fromkeys(" ".join(n.split()) for n in [place["name"], place["article_name"], *texts] if n))
    found = lookup().candidates(names, place["lat"], place["lon"])
    for entry in found:
        entry["current"] = abs(entry["lat"] - place["lat"]) < 1e-4 and abs(entry["lon"] - place["lon"]) < 1e-4
    return _no_store(jsonify({"place": place_id, "names": names, "candidates": found}))


@bp.get("/api/gazetteer")
@auth.editor_required
def search() -> Response:
    """`?q=name[&lat=&lon=]`: gazetteer entries whose name is or starts with q (and Nominatim's, when enabled)."""
    query = " ".join(request.args.get("q", "").split())[:100]
    if len(query) < 2:
        abort(400, description="Search for at least 2 letters: ?q=name")
    lat, lon = _coordinate("lat", 90.0), _coordinate("lon", 180.0)
    return _no_store(jsonify(lookup().search(query, lat, lon)))


def _coordinate(key: str, bound: float) -> float | None:
    """`?lat=`/`?lon=` as a finite number within ±bound, None when absent; anything else is a 400."""
    value = request.args.get(key, "")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and -bound <= number <= bound):
        abort(400, description=f"{key} must be a number from {-bound:g} to {bound:g}, not {value[:40]!r}.")
    return number


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- the page


@bp.get("/articles/<slug>/edit")
@auth.editor_required
def edit_page(slug: str) -> Response:
    """The article's page with the editing controls: built from the same context as the readers' page."""
    built = site().article(slug)
    if built is None or not built.page:
        abort(404, description=f"No article {slug!r}.")
    history = built.history
    assert history is not None
    url = f"/articles/{slug}"
    etags = {p["id"]: built.assets[f"/api/articles/{slug}/places/{p['id']}"].etag for p in built.page["places"]}
    article = built.page["article"]
    edit = {
        "slug": slug,
        "editor": auth.current_editor(),
        "etags": etags,
        "sentences": [s.start for s in article.sentences],
        "mentions": built.page["spans"],
        "sources": {p["id"]: p["source"] for p in built.page["places"]},
        "categories": sorted({p["category"] for p in built.page["places"]} | {"other mentioned place"}),
        "precisions": list(ROW_PRECISIONS),
    }
    html = render_template(
        "index.html",
        **{**built.page, "data": {**built.page["data"], "edit": edit}},
        editing=edit,
        csrf=generate_csrf(),
        history=list(reversed(correction_records(history.corrections, history.skipped))),
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = built.csp[url]
    response.headers["Cache-Control"] = "no-store"
    return response
