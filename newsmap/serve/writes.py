"""Writing routes (a Blueprint): editors add and delete articles, from the page or the API.

Reading never loads the geoparser. Adding an article runs it where it cannot block readers: the
app is given a `geoparse` function (`create_app(geoparse=...)`, by its composition root; by default a
`GeoparsePool` of child processes with the NEWSMAP_GEOPARSE_TIMEOUT budget), and `newsmap.adding`
stores what it finds. Every write is one SQLite transaction; bad input changes nothing and gets a
one-line message (HTML form again, or JSON with the same message).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request

from newsmap.adding import GeoparseError, add_article
from newsmap.article import ArticleError
from newsmap.dates import DateError, check_published
from newsmap.ingest import Draft, IngestError, fetch_url, from_text, from_upload
from newsmap.language import checked as checked_language
from newsmap.language import choices as language_choices
from newsmap.language import notice
from newsmap.serve import auth
from newsmap.serve.bodies import HTML_ALLOWANCE, json_body
from newsmap.serve.placelinks import with_place_links
from newsmap.serve.site import Site

ADDING = "newsmap.adding"  # app.extensions key: the app's Adding (its geoparse function and limits)
FORM_FIELDS = ("title", "publisher", "published", "url", "text", "fetch", "language")

bp = Blueprint("writes", __name__)


def site() -> Site:
    return current_app.extensions["newsmap"]


@dataclass(frozen=True)
class Outcome:
    status: int
    slug: str = ""
    places: list[dict[str, Any]] | None = None
    message: str = ""
    language: str = ""


def max_bytes() -> int:
    return int(float(current_app.config["MAX_ARTICLE_KB"]) * 1000)


def draft_from_request(fields: dict[str, str], upload: Any) -> Draft:
    """The article an editor sent: an uploaded file, a URL to fetch, or pasted text (in that order)."""
    raw_limit = max_bytes() * HTML_ALLOWANCE  # a page's markup is several times its text
    if upload is not None and upload.filename:
        draft = from_upload(upload.filename, upload.read(raw_limit + 1), max_bytes=raw_limit)
    elif fields.get("fetch", "").strip():
        draft = fetch_url(
            fields["fetch"].strip(), timeout=float(current_app.config["URL_TIMEOUT"]), max_bytes=raw_limit,
            allow_private=bool(current_app.config["ALLOW_PRIVATE_URLS"]),
        )  # fmt: skip
    else:
        draft = from_text(fields.get("text", ""), max_bytes=max_bytes())
    chosen = {key: " ".join(fields.get(key, "").split())[:300] for key in ("title", "publisher", "published", "url")}
    if chosen["url"] and not chosen["url"].lower().startswith(("https://", "http://")):
        raise IngestError("the address of the original must start with http:// or https://")
    try:
        check_published(chosen["published"])
        language = checked_language(fields.get("language", ""))
    except (DateError, ValueError) as error:
        raise IngestError(str(error)) from None
    return Draft(
        text=draft.text,
        title=chosen["title"] or draft.title,
        publisher=chosen["publisher"] or draft.publisher,
        published=chosen["published"] or draft.published,
        url=chosen["url"] or draft.url,
        language=language or draft.language,  # the editor's choice, the file's, else detected when added
    )


def add(fields: dict[str, str], upload: Any, source: str) -> Outcome:
    """Geoparse and store one article; 201, 409 for a duplicate, 400/413/422 with a message."""
    try:
        draft = draft_from_request(fields, upload)
    except IngestError as error:
        return Outcome(413 if "allowed" in str(error) or "larger" in str(error) else 400, message=str(error))
    adding = current_app.extensions[ADDING]
    try:
        added = add_article(
            site().store(), adding.geoparse, draft.text, limits=adding.limits, title=draft.title,
            publisher=draft.publisher, published=draft.published, url=draft.url, language=draft.language,
            added_by=auth.current_editor() or "", source=source,
        )  # fmt: skip
    except ArticleError as error:
        return Outcome(422, message=str(error))
    except GeoparseError as error:
        return Outcome(error.status, message=str(error))
    if added.duplicate:
        message = f"This text is already in the library: /articles/{added.slug}"
        return Outcome(409, added.slug, added.places, message, added.language)
    return Outcome(201, added.slug, added.places, language=added.language)


# --------------------------------------------------------------------------- the page


@bp.get("/new")
@auth.editor_required
def new_form() -> Response:
    return form_page({}, "", 200)


def form_page(fields: dict[str, str], error: str, status: int, existing: str = "") -> Response:
    html = render_template(
        "new.html",
        fields=fields,
        error=error,
        existing=existing,
        max_kb=int(float(current_app.config["MAX_ARTICLE_KB"])),
        languages=language_choices(),
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = auth.FORM_CSP + "; script-src 'self'"  # static/new.js
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/new")
@auth.editor_required
@auth.write_limit
def new_submit() -> Response:
    fields = {key: request.form.get(key, "") for key in FORM_FIELDS}
    outcome = add(fields, request.files.get("file"), "web")
    if outcome.status == 201:
        return redirect(f"/articles/{outcome.slug}", code=303)
    if outcome.status == 409:
        return form_page(fields, "This text is already in the library.", 409, existing=outcome.slug)
    return form_page(fields, outcome.message, outcome.status)


@bp.post("/articles/<slug>/delete")
@auth.editor_required
@auth.write_limit
def delete_from_page(slug: str) -> Response:
    if not site().store().delete_article(slug):
        abort(404, description=f"No article {slug!r}.")
    return redirect("/", code=303)


@bp.get("/articles/<slug>/manage")
@auth.editor_required
def manage(slug: str) -> Response:
    info = site().store().info(slug)
    if info is None:
        abort(404, description=f"No article {slug!r}.")
    response = Response(render_template("manage.html", info=info), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = auth.FORM_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- the API


@bp.post("/api/articles")
@auth.editor_required
@auth.write_limit
def api_add() -> Response:
    """JSON `{title, text, publisher?, published?, url?, language?}` (or `fetch` for a URL), or a multipart
    upload. `language` (ISO 639-1) overrides the detector; the answer says the language stored, and for
    one the geoparser does not read, a `notice` (the article is stored with no places)."""
    if request.is_json:
        body = json_body()
        if not isinstance(body, dict):
            abort(400, description='The body must be a JSON object: {"title", "text", ...}.')
        fields = {key: body[key] for key in FORM_FIELDS if isinstance(body.get(key), str)}
        wrong = [key for key in FORM_FIELDS if key in body and not isinstance(body[key], str)]
        if wrong:
            abort(400, description=f"Field {wrong[0]!r} must be text.")
        upload = None
    else:
        fields = {key: request.form.get(key, "") for key in FORM_FIELDS}
        upload = request.files.get("file")
    outcome = add(fields, upload, "api")
    if outcome.status not in (201, 409):
        abort(outcome.status, description=outcome.message)
    url = f"/articles/{outcome.slug}"  # the new article, or the one the text duplicates
    if outcome.status == 201:
        body = {"slug": outcome.slug, "url": url, "language": outcome.language,
                "places": with_place_links(outcome.places or [], outcome.slug)}  # fmt: skip
        if notice(outcome.language):
            body["notice"] = notice(outcome.language)
    else:
        body = {"error": "Conflict", "status": 409, "message": outcome.message, "slug": outcome.slug, "url": url}
    response = jsonify(body)
    response.status_code = outcome.status
    response.headers["Location"] = url
    return response


@bp.delete("/api/articles/<slug>")
@auth.editor_required
@auth.write_limit
def api_delete(slug: str) -> Response:
    if not site().store().delete_article(slug):
        abort(404, description=f"No article {slug!r}.")
    return Response(status=204)
