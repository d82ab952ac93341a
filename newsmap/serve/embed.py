"""Embeds and oEmbed (a Blueprint): an article's map made for other sites' `<iframe>`s.

- `/articles/<slug>/embed` is the article's map with a compact panel, rendered from the context
  the article page was built with (`Built.page`): the map's script is the same, so the page
  keeps the article page's CSP (its script hash) with one change, `frame-ancestors`, which
  NEWSMAP_EMBED_ORIGINS sets. It is the only page that may be framed (`headers.allow_framing`).
  Rendered once per article version and policy, and kept in the site's LRU cache beside it.
- `/oembed?url=...` answers oEmbed 1.0 "rich" JSON for an article's (or a collection's) page or embed URL, so a
  CMS that takes a link can embed the map. Article pages are cached without the request's
  host, so their discovery `<link>` gives a path as the url; a path is taken as this site's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from flask import Blueprint, Response, abort, current_app, has_app_context, jsonify, request

from newsmap.serve.assets import Asset
from newsmap.serve.headers import allow_framing
from newsmap.serve.pages import csp_without
from newsmap.serve.site import HTML, Built, Site
from newsmap.settings import Settings, embed_origins

bp = Blueprint("embed", __name__)

EMBED_PATH = "/articles/{slug}/embed"
WIDTH, HEIGHT = 640, 480  # the iframe's size unless the consumer asks for less (the share control's too)
ARTICLE_URL = re.compile(r"/articles/([^/]+)(/embed)?/?")
COLLECTION_URL = re.compile(r"/collections/([^/]+)(/embed)?/?")
DEFAULT_PORTS = {"http": 80, "https": 443}


def site() -> Site:
    return current_app.extensions["newsmap"]


# --------------------------------------------------------------------------- the embed page


def frame_ancestors(origins: Sequence[str] | str) -> str:
    """The CSP `frame-ancestors` sources for NEWSMAP_EMBED_ORIGINS (a string is checked first)."""
    checked = embed_origins(origins) if isinstance(origins, str) else tuple(origins)
    return " ".join(checked) if checked else "'none'"


def embed_csp(page_csp: str, ancestors: str) -> str:
    """The article page's policy with its `frame-ancestors` replaced: the same script hash holds."""
    return f"{csp_without(page_csp, 'frame-ancestors')}; frame-ancestors {ancestors}"


def configured_origins() -> Sequence[str] | str:
    """The app's EMBED_ORIGINS; outside a request (a static export), the environment's setting."""
    if has_app_context():
        return current_app.config.get("EMBED_ORIGINS", ("*",))
    return Settings.from_env().embed_origins


def embed_built(site: Site, slug: str, origins: Sequence[str] | str | None = None) -> Built | None:
    """The embed page of `slug` as a `Built` (its Asset and CSP), or None for an unknown article.

    Keyed on the article page's ETag, so a new version of the article makes a new embed page,
    and the old one ages out of the LRU like the article's other files.
    """
    built = site.article(slug)
    url = f"/articles/{slug}"
    if built is None or not built.page or url not in built.assets:
        return None
    ancestors = frame_ancestors(configured_origins() if origins is None else origins)
    path = EMBED_PATH.format(slug=slug)

    def make() -> Built:
        page = built.page
        quoted = {span[0] for spans in page["spans"].values() for span in spans}
        spec = page["data"]["basemap"]
        data = {**page["data"], "embed": True, "basemap": {**spec, "url": _below(spec["url"])}}
        body = site.templates.get_template("embed.html").render(**{**page, "data": data}, quoted=quoted)
        embed = Built()
        embed.assets[path] = Asset.make(body.encode("utf-8"), HTML, built.assets[url].modified)
        embed.csp[path] = embed_csp(built.csp[url], ancestors)
        return embed

    return site.cache.get(("embed", slug, built.assets[url].etag, ancestors), make)


def _below(url: str) -> str:
    """A URL the article page gives relative to itself (a static export's basemap cells, "../../basemap"
    from `articles/<slug>/index.html`), as seen from the embed one folder below it (`.../embed/index.html`)."""
    return url if not url or url.startswith("/") or "://" in url else f"../{url}"


def render_embed(site: Site, slug: str, origins: Sequence[str] | str | None = None) -> tuple[bytes, str] | None:
    """(HTML, CSP) of an article's embed page, or None: for the static export, which writes it too.

    `origins` overrides NEWSMAP_EMBED_ORIGINS (the app's setting inside a request or app context,
    else the environment's). Links in the page are absolute paths, as on the server.
    """
    built = embed_built(site, slug, origins)
    if built is None:
        return None
    path = EMBED_PATH.format(slug=slug)
    return built.assets[path].body, built.csp[path]


@bp.get("/articles/<slug>/embed")
def embed_page(slug: str) -> Response:
    """The map alone, for an `<iframe>` on another site (the only page that may be framed)."""
    built = embed_built(site(), slug)
    if built is None:
        abort(404, description=f"No article {slug!r}.")
    path = EMBED_PATH.format(slug=slug)
    response = built.assets[path].respond(request)
    response.headers["Content-Security-Policy"] = built.csp[path]
    allow_framing()
    return response


# --------------------------------------------------------------------------- oEmbed


def iframe_html(src: str, width: int, height: int, title: str) -> str:
    """The embed code: oEmbed's `html`, and what the share control copies (newsmap.js builds the same)."""
    attrs = {
        "src": src, "width": str(width), "height": str(height), "title": f"Map: {title}",
        "loading": "lazy", "style": "border: 0",
    }  # fmt: skip
    return "<iframe " + " ".join(f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items()) + "></iframe>"


def same_site(scheme: str, netloc: str) -> bool:
    """Whether a URL's scheme and host are this site's, as the request reached it.

    http and https count alike (behind a proxy without NEWSMAP_PROXIES the request says http),
    and a default port is the same as none.
    """

    def key(scheme: str, netloc: str) -> tuple[str, int | None]:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port  # ValueError for a port that is not one
        return (parts.hostname or "", None if port in (None, DEFAULT_PORTS.get(scheme)) else port)

    here = urlsplit(request.host_url)
    return scheme in DEFAULT_PORTS and key(scheme, netloc) == key(here.scheme, here.netloc)


def _this_site(url: str) -> SplitResult | None:
    """The parts of `url` when it is an address of this site (a bare path is), else None."""
    try:
        parts = urlsplit(url)
        if (parts.scheme or parts.netloc) and not same_site(parts.scheme or request.scheme, parts.netloc):
            return None
    except ValueError:
        return None
    return parts


def requested_article(url: str) -> tuple[str, str] | None:
    """(slug, place id or "") of an article page or embed URL of this site; a path counts as this site's."""
    parts = _this_site(url)
    if parts is None:
        return None
    path = unquote(parts.path)
    found = ARTICLE_URL.fullmatch(path)
    if found:
        return found[1], unquote(parts.fragment)
    home = site().home_slug() if path == "/" else ""
    return (home, unquote(parts.fragment)) if home else None


def requested_collection(url: str) -> tuple[str, str] | None:
    """(embed path, title) of a collection's page or embed URL of this site (a path counts as this site's)."""
    from newsmap.serve import collection_pages  # which builds its embed with this module's policy

    parts = _this_site(url)
    if parts is None:
        return None
    found = COLLECTION_URL.fullmatch(unquote(parts.path))
    built = collection_pages.built(site(), found[1]) if found else None
    if found is None or built is None or not built.page:
        return None
    return collection_pages.EMBED.format(slug=quote(found[1])), built.page["collection"].title


def pixels(name: str, default: int) -> int:
    """`maxwidth`/`maxheight`: the iframe is never larger, as oEmbed requires."""
    value = request.args.get(name, "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        abort(400, description=f"{name} must be a whole number of pixels, not {value[:20]!r}.")
    return min(default, int(value))


@bp.get("/oembed")
def oembed() -> Response:
    """oEmbed 1.0: `?url=<article or collection page, or its embed URL>&format=json[&maxwidth=&maxheight=]`."""
    url = request.args.get("url", "").strip()
    if not url:
        abort(400, description="url is required: the address of an article's page, e.g. ?url=/articles/<slug>.")
    if request.args.get("format", "json") != "json":
        abort(501, description="Only format=json is available.")
    found = requested_article(url)
    built = site().article(found[0]) if found else None
    if found is not None and built is not None and built.page:
        slug, place = found
        path, title = EMBED_PATH.format(slug=quote(slug)), built.page["article"].title
        if place in {p["id"] for p in built.page["places"]}:
            path += "#" + quote(place)
    else:
        story = requested_collection(url)
        if story is None:
            abort(404, description="The url is not an article or a collection of this site.")
        path, title = story
    width, height = pixels("maxwidth", WIDTH), pixels("maxheight", HEIGHT)
    src = request.host_url.rstrip("/") + path
    answer: dict[str, Any] = {
        "version": "1.0", "type": "rich", "title": title,
        "provider_name": "newsmap", "provider_url": request.host_url,
        "width": width, "height": height, "html": iframe_html(src, width, height, title),
    }  # fmt: skip
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"  # a consumer may ask from its page's script
    return response
