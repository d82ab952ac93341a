"""Collections (a Blueprint): named, ordered sets of articles telling one story, read and written.

Readers get a collection's page, downloads, embed and feed (`collection_pages`: built once per
state of the collection, cached, ETag and 304 like an article's). Editors make and change them
from the API (`POST /api/collections`, `PATCH` and `DELETE /api/collections/<slug>`, bearer
token) or from the forms (`/collections/new`, `/collections/<slug>/edit`, CSRF); every write is
one SQLite transaction (`newsmap.collections`), rate-limited like adding an article.

A change to an existing collection must say which version it changes, as a change to a place
does (`editing.require_match`): `If-Match` with the ETag `GET /api/collections/<slug>` gave (428
without it, 409 with the collection as it is now when another editor changed it meanwhile); the
edit form carries that ETag in a hidden field and answers the same way.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request
from werkzeug.http import HTTP_STATUS_CODES

from newsmap import collections as stories
from newsmap.collections import CollectionError
from newsmap.serve import auth, collection_pages
from newsmap.serve.assets import content_etag
from newsmap.serve.bodies import json_body
from newsmap.serve.embed import configured_origins, frame_ancestors
from newsmap.serve.headers import allow_framing
from newsmap.serve.site import Site
from newsmap.serve.views import respond

bp = Blueprint("collections", __name__)
ARTICLE_LINK = re.compile(r"/articles/([^/?#\s]+)")
FORM_FIELDS = ("title", "description", "articles")
SUGGESTIONS = 30  # articles the form lists to pick from


def site() -> Site:
    return current_app.extensions["newsmap"]


class Conflict(CollectionError):
    """The collection changed since the editor read it: 409, with the collection as it is now."""

    def __init__(self, current: stories.Collection) -> None:
        super().__init__(
            f"“{current.title}” was changed by someone else since you read it: here it is as it is now; "
            "make your change to it again if it is still needed.",
            409,
        )
        self.current = current


@bp.errorhandler(CollectionError)
def refused(error: CollectionError) -> tuple[Response, int]:
    """A refused request: JSON with one line (a conflict also holds the collection as it is now)."""
    body: dict[str, Any] = {"error": HTTP_STATUS_CODES.get(error.status, "Error"), "status": error.status,
                            "message": str(error)}  # fmt: skip
    if isinstance(error, Conflict):
        body["current"] = error.current.document()
    return jsonify(body), error.status


def etag_of(collection: stories.Collection) -> str:
    return content_etag(collection_pages.api_body(collection))


def require_match(tag: str | None) -> stories.Check:
    """The check a change runs inside its transaction: `tag` (If-Match, or the form's) is the
    collection's ETag now, else 409; no tag at all is 428 (a blind write would undo another's)."""

    def check(current: stories.Collection) -> None:
        if not tag:
            raise CollectionError(
                f"Send If-Match with the ETag of GET /api/collections/{current.slug} as you read it, "
                "so that no one's change is overwritten unseen.",
                428,
            )
        now = etag_of(current)
        wanted = [part.strip().removeprefix("W/").strip('"') for part in tag.split(",")]
        if "*" not in wanted and now not in wanted and f"{now}-gz" not in wanted:
            raise Conflict(current)

    return check


# --------------------------------------------------------------------------- reading


@bp.get("/collections")
def index_page() -> Response:
    return respond(collection_pages.index(site()), "/collections")


@bp.get("/api/collections")
def index_api() -> Response:
    return respond(collection_pages.index(site()), "/api/collections")


@bp.get("/collections/<slug>")
def page(slug: str) -> Response:
    return respond(collection_pages.built(site(), slug), f"/collections/{slug}", f"No collection {slug!r}.")


@bp.get("/collections/<slug>/locations.csv")
@bp.get("/collections/<slug>/mentions.csv")
@bp.get("/collections/<slug>/locations.geojson")
@bp.get("/collections/<slug>/locations.kml")
@bp.get("/collections/<slug>/collection.json")
def download(slug: str) -> Response:
    path = request.path + (
        "?bom=1" if request.path.endswith("/locations.csv") and request.args.get("bom") == "1" else ""
    )
    return respond(collection_pages.built(site(), slug), path, f"No collection {slug!r}.")


@bp.get("/api/collections/<slug>")
def api_get(slug: str) -> Response:
    """The collection's own state; its ETag is what a PATCH or DELETE sends back in If-Match."""
    return respond(collection_pages.built(site(), slug), request.path, f"No collection {slug!r}.")


@bp.get("/collections/<slug>/embed")
def embed(slug: str) -> Response:
    """The collection's map for another site's `<iframe>`: framed as an article's embed is (NEWSMAP_EMBED_ORIGINS)."""
    built = collection_pages.embed_built(site(), slug, frame_ancestors(configured_origins()))
    path = collection_pages.EMBED.format(slug=slug)
    response = respond(built, path, f"No collection {slug!r}.")
    allow_framing()
    return response


@bp.get("/collections/<slug>/feed.atom")
def feed(slug: str) -> Response:
    built = collection_pages.feed_built(site(), slug, request.host_url.rstrip("/"))
    return respond(built, collection_pages.FEED.format(slug=slug), f"No collection {slug!r}.")


# --------------------------------------------------------------------------- the API


def request_fields(*, partial: bool) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise CollectionError('The body must be a JSON object: {"title", "description"?, "articles": [slugs]}.', 400)
    return stories.checked(body, partial=partial)


def answer(collection: stories.Collection, status: int = 200) -> Response:
    """The collection as `GET /api/collections/<slug>` shows it, with its new ETag."""
    response = Response(collection_pages.api_body(collection), status=status, content_type="application/json")
    response.set_etag(etag_of(collection))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/collections")
@auth.editor_required
@auth.write_limit
def api_create() -> Response:
    """`{"title", "description"?, "articles": [slugs]}` -> 201 with `Location: /collections/<slug>`."""
    collection = stories.create(site().store().conn, request_fields(partial=False), editor=auth.current_editor() or "")
    response = answer(collection, 201)
    response.headers["Location"] = collection_pages.PAGE.format(slug=collection.slug)
    return response


@bp.patch("/api/collections/<slug>")
@auth.editor_required
@auth.write_limit
def api_update(slug: str) -> Response:
    """Any of title, description and articles (the new list, in its new order); If-Match required."""
    fields = request_fields(partial=True)
    return answer(
        stories.update(site().store().conn, slug, fields, check=require_match(request.headers.get("If-Match")))
    )


@bp.delete("/api/collections/<slug>")
@auth.editor_required
@auth.write_limit
def api_delete(slug: str) -> Response:
    """The collection goes (its articles stay in the library); If-Match required."""
    if not stories.delete(site().store().conn, slug, check=require_match(request.headers.get("If-Match"))):
        raise CollectionError(f"No collection {slug!r}.", 404)
    return Response(status=204)


# --------------------------------------------------------------------------- the forms


def form_articles(text: str) -> list[str]:
    """The form's list, one article a line: its slug, or its address (`.../articles/<slug>#place`)."""
    slugs = []
    for line in text.splitlines():
        line = line.strip()
        found = ARTICLE_LINK.search(line)
        if line:
            slugs.append(found[1] if found else line)
    return slugs


def form_page(fields: dict[str, str], *, error: str = "", status: int = 200, current: Any = None) -> Response:
    """The new or edit form; `current` is the collection being edited (None: a new one)."""
    query = request.args.get("q", "")[:200]
    store = site().store()
    suggestions = store.listing(query, SUGGESTIONS)
    html = render_template(
        "collection_form.html", fields=fields, error=error, current=current, query=query,
        suggestions=suggestions, etag=etag_of(current) if current is not None else "",
        limits={"title": stories.TITLE_LIMIT, "description": stories.DESCRIPTION_LIMIT,
                "articles": stories.ARTICLES_LIMIT},
    )  # fmt: skip
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = auth.FORM_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def posted() -> tuple[dict[str, str], dict[str, Any]]:
    """The form's fields as sent (to show again) and as checked (CollectionError if not)."""
    fields = {key: request.form.get(key, "") for key in FORM_FIELDS}
    return fields, stories.checked({**fields, "articles": form_articles(fields["articles"])}, partial=False)


def _as_fields(collection: stories.Collection) -> dict[str, str]:
    return {
        "title": collection.title,
        "description": collection.description,
        "articles": "\n".join(collection.articles),
    }


@bp.get("/collections/new")
@auth.editor_required
def new_form() -> Response:
    return form_page({"articles": "\n".join(request.args.getlist("article"))})


@bp.post("/collections/new")
@auth.editor_required
@auth.write_limit
def new_submit() -> Response:
    fields: dict[str, str] = {key: request.form.get(key, "") for key in FORM_FIELDS}
    try:
        fields, checked = posted()
        collection = stories.create(site().store().conn, checked, editor=auth.current_editor() or "")
    except CollectionError as error:
        return form_page(fields, error=str(error), status=error.status)
    return redirect(collection_pages.PAGE.format(slug=collection.slug), code=303)


def _existing(slug: str) -> stories.Collection:
    collection = stories.get(site().store().conn, slug)
    if collection is None:
        abort(404, description=f"No collection {slug!r}.")
    return collection


@bp.get("/collections/<slug>/edit")
@auth.editor_required
def edit_form(slug: str) -> Response:
    collection = _existing(slug)
    return form_page(_as_fields(collection), current=collection)


@bp.post("/collections/<slug>/edit")
@auth.editor_required
@auth.write_limit
def edit_submit(slug: str) -> Response:
    collection = _existing(slug)
    fields: dict[str, str] = {key: request.form.get(key, "") for key in FORM_FIELDS}
    try:
        fields, checked = posted()
        collection = stories.update(site().store().conn, slug, checked, check=require_match(request.form.get("etag")))
    except Conflict as conflict:
        return form_page(_as_fields(conflict.current), error=str(conflict), status=409, current=conflict.current)
    except CollectionError as error:
        return form_page(fields, error=str(error), status=error.status, current=collection)
    return redirect(collection_pages.PAGE.format(slug=slug), code=303)


@bp.post("/collections/<slug>/delete")
@auth.editor_required
@auth.write_limit
def delete_submit(slug: str) -> Response:
    collection = _existing(slug)
    try:
        stories.delete(site().store().conn, slug, check=require_match(request.form.get("etag")))
    except Conflict as conflict:
        return form_page(_as_fields(conflict.current), error=str(conflict), status=409, current=conflict.current)
    except CollectionError as error:
        return form_page(_as_fields(collection), error=str(error), status=error.status, current=collection)
    return redirect("/collections", code=303)
