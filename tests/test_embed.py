"""The embed page, the framing policy and oEmbed, through Flask's test client.

Only `/articles/<slug>/embed` may be framed, by the sites NEWSMAP_EMBED_ORIGINS names; every other
answer keeps `X-Frame-Options: DENY` and `frame-ancestors 'none'`. `/oembed` answers oEmbed 1.0
"rich" JSON for this site's article URLs (a path counts as this site's, as the cached article page's
discovery link gives it). The browser side (framing for real, the share control, print) is
tests/test_share_browser.py.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from newsmap.serve.embed import _below, embed_csp, frame_ancestors, render_embed
from newsmap.settings import Settings, embed_origins

from .conftest import SEED_SLUG, app_for
from .payloads import SLUG as PAYLOAD_SLUG
from .payloads import write_payload_site

PAGE = f"/articles/{SEED_SLUG}"
EMBED = f"{PAGE}/embed"
TITLE = "Status of Russian Kant Air Base in Kyrgyzstan to be changed"


class Tags(HTMLParser):
    """Every start tag of a document, with its attributes (entities decoded, as a browser reads them)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in wanted.items())]


def directive(csp: str, name: str) -> str:
    return next(d for d in csp.split("; ") if d.startswith(name + " "))


def data_block(html: str) -> str:
    return re.search(r'<script type="application/json" id="newsmap-data"[^>]*>(.*?)</script>', html, re.S).group(1)


def oembed(client, url: str, **params: str):
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in {"url": url, **params}.items())
    return client.get(f"/oembed?{query}")


# --------------------------------------------------------------------------- the embed page


def test_embed_page_is_the_map_without_the_page_around_it(client):
    response = client.get(EMBED)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    tags = Tags(html)
    assert tags.find("div", class_="folium-map") and tags.find("script", src="/static/newsmap.js")
    assert not tags.find("script", src="/static/editor.js")
    for absent in ("/edit", "/manage", 'class="downloads"', 'class="masthead"', 'class="share"', 'class="legend"'):
        assert absent not in html, absent
    (full,) = [a for a in tags.find("a") if a.get("href") == PAGE]
    assert full["target"] == "_blank" and full["rel"] == "noopener"
    assert "Open the full map" in html and f">{TITLE}</h1>" in html and "Vestnik Kavkaza" in html
    assert len(tags.find("a", class_="place-link")) == 18  # every place, linked to its popup
    assert '"embed": true' in html  # newsmap.js's embed mode: no history entries, no "Show in article"
    # The sentences the popups quote are there (hidden), not the whole article.
    mentions = csv.DictReader(io.StringIO(client.get(f"{PAGE}/mentions.csv").get_data(as_text=True)))
    quoted = {int(row["sentence"]) for row in mentions}
    sentences = {a["id"] for a in tags.find("span") if (a.get("id") or "").startswith("sentence-")}
    assert sentences == {f"sentence-{i}" for i in quoted}
    assert "The largest is the air base in Kant." in re.sub(r"<[^>]+>", "", html)
    assert '<span data-place="kant-air-base">air base in </span><span data-place="kant" data-also="kant-air-base">Kant</span>' in html
    assert len(sentences) < len(re.findall(r'id="sentence-', client.get(PAGE).get_data(as_text=True)))


def test_embed_page_keeps_the_article_pages_script_hash(client):
    page_csp = client.get(PAGE).headers["Content-Security-Policy"]
    response = client.get(EMBED)
    csp = response.headers["Content-Security-Policy"]
    assert directive(csp, "script-src") == directive(page_csp, "script-src")
    inline = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S)
    hashes = [base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in inline]
    assert re.findall(r"'sha256-([^']+)'", csp) == hashes
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp


def test_only_the_embed_page_may_be_framed_by_default(client):
    embed = client.get(EMBED)
    assert directive(embed.headers["Content-Security-Policy"], "frame-ancestors") == "frame-ancestors *"
    assert "X-Frame-Options" not in embed.headers
    for path in (PAGE, "/", f"{PAGE}/locations.csv", "/api/places", "/articles/nope/embed", f"{EMBED}/x"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
    assert oembed(client, PAGE).headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("setting", "ancestors"),
    [
        ("https://news.example.org", "https://news.example.org"),
        ("https://news.example.org, http://localhost:8000/  https://*.blog.example", "https://news.example.org http://localhost:8000 https://*.blog.example"),
        ("", "'none'"),
        ("none", "'none'"),
    ],
)  # fmt: skip
def test_the_setting_decides_who_may_frame_embeds(workdir, monkeypatch, setting, ancestors):
    monkeypatch.setenv("NEWSMAP_EMBED_ORIGINS", setting)
    client = app_for(workdir).test_client()
    embed = client.get(EMBED)
    assert directive(embed.headers["Content-Security-Policy"], "frame-ancestors") == f"frame-ancestors {ancestors}"
    assert "X-Frame-Options" not in embed.headers
    page = client.get(PAGE)
    assert (
        page.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    )


@pytest.mark.parametrize(
    "bad", ["news.example.org", "https://news.example.org/path", "https://a.example;script-src *", "'self'", "* https://a.example", "ftp://a.example"]
)  # fmt: skip
def test_the_setting_refuses_what_is_not_an_origin(bad):
    with pytest.raises(ValueError, match="NEWSMAP_EMBED_ORIGINS"):
        Settings.from_env({"NEWSMAP_EMBED_ORIGINS": bad})


def test_the_setting_defaults_to_any_site_and_empty_means_none():
    assert Settings.from_env({}).embed_origins == ("*",)
    assert Settings.from_env({"NEWSMAP_EMBED_ORIGINS": ""}).embed_origins == ()
    assert embed_origins("HTTPS://News.Example.org https://news.example.org") == ("https://news.example.org",)
    assert frame_ancestors(("*",)) == "*" and frame_ancestors(()) == "'none'" and frame_ancestors("") == "'none'"
    assert embed_csp("default-src 'none'; frame-ancestors 'none'; base-uri 'none'", "*").endswith("frame-ancestors *")


def test_an_unknown_article_has_no_embed(client):
    response = client.get("/articles/nope/embed")
    assert (
        response.status_code == 404 and response.mimetype == "text/html" and "nope" in response.get_data(as_text=True)
    )


def test_embed_is_built_once_per_version_and_revalidates(app, client):
    first = client.get(EMBED)
    etag = first.headers["ETag"]
    assert client.get(EMBED, headers={"If-None-Match": etag}).status_code == 304
    zipped = client.get(EMBED, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and len(zipped.data) < len(first.data) / 3
    with app.app_context():
        site = app.extensions["newsmap"]
        body, csp = render_embed(site, SEED_SLUG)
        assert body == first.data and csp == first.headers["Content-Security-Policy"]
        assert render_embed(site, SEED_SLUG, origins=("https://a.example",))[1].endswith(
            "frame-ancestors https://a.example"
        )
        assert render_embed(site, "nope") is None


def test_render_embed_outside_a_request_takes_the_environments_setting(app, monkeypatch):
    monkeypatch.setenv("NEWSMAP_EMBED_ORIGINS", "https://export.example")
    body, csp = render_embed(app.extensions["newsmap"], SEED_SLUG)  # no app context: as a static export runs
    assert csp.endswith("frame-ancestors https://export.example") and b'class="folium-map"' in body


def test_the_embed_finds_the_outlines_where_the_article_page_does():
    """On the server an absolute path; in a static export a file beside the article's index.html,
    one folder up from the embed's `articles/<slug>/embed/index.html`."""
    assert _below(f"{PAGE}/basemap.geojson") == f"{PAGE}/basemap.geojson"
    assert _below("basemap.geojson") == "../basemap.geojson"
    assert _below("https://cdn.example/basemap.geojson") == "https://cdn.example/basemap.geojson"


def test_embed_of_hostile_text_carries_no_live_payload(tmp_path):
    write_payload_site(tmp_path)
    html = app_for(tmp_path).test_client().get(f"/articles/{PAYLOAD_SLUG}/embed").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="application/json" id="newsmap-data" data-basemap-script="/static/basemap.js"'
        f' data-phone-script="/static/phone.js" data-details-script="/static/details.js" data-details="/api/articles/{PAYLOAD_SLUG}">',
        '<script src="/vendor/leaflet/leaflet.js">',
        "<script>",
        '<script src="/static/newsmap.js">',
    ]
    assert 'alert("xss-title")' not in html and "&lt;script&gt;alert(&#34;xss-title&#34;)" in html
    assert "<img src=x" not in html


# --------------------------------------------------------------------------- oEmbed


def test_oembed_answers_rich_json_with_every_field(client):
    response = oembed(client, f"http://localhost{PAGE}", format="json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    assert answer == {
        "version": "1.0", "type": "rich", "title": TITLE, "provider_name": "newsmap", "provider_url": "http://localhost/",
        "width": 640, "height": 480, "html": answer["html"],
    }  # fmt: skip
    (iframe,) = Tags(answer["html"]).find("iframe")
    assert iframe == {
        "src": f"http://localhost{EMBED}", "width": "640", "height": "480", "title": f"Map: {TITLE}",
        "loading": "lazy", "style": "border: 0",
    }  # fmt: skip
    assert answer["html"].endswith("></iframe>") and response.headers["Access-Control-Allow-Origin"] == "*"


def test_oembed_takes_a_path_an_embed_url_and_a_place(client):
    by_path = oembed(client, PAGE).get_json()  # format defaults to json
    assert by_path == oembed(client, f"http://localhost{EMBED}").get_json()
    assert by_path == oembed(client, f"https://localhost:443{PAGE}/").get_json()  # https and a default port alike
    with_place = oembed(client, f"{PAGE}#kant-air-base").get_json()
    assert Tags(with_place["html"]).find("iframe")[0]["src"] == f"http://localhost{EMBED}#kant-air-base"
    unknown_place = oembed(client, f"{PAGE}#nowhere").get_json()
    assert Tags(unknown_place["html"]).find("iframe")[0]["src"] == f"http://localhost{EMBED}"


def test_oembed_respects_maxwidth_and_maxheight(client):
    small = oembed(client, PAGE, maxwidth="300", maxheight="200").get_json()
    assert (small["width"], small["height"]) == (300, 200)
    assert Tags(small["html"]).find("iframe", width="300", height="200")
    large = oembed(client, PAGE, maxwidth="5000", maxheight="4000").get_json()
    assert (large["width"], large["height"]) == (640, 480)
    for bad in ("wide", "0", "-5", "1e3"):
        response = oembed(client, PAGE, maxwidth=bad)
        assert response.status_code == 400 and "maxwidth" in response.get_json()["message"], bad


def test_oembed_uses_the_address_the_request_came_to(workdir):
    client = app_for(workdir, PROXIES=1).test_client()  # behind one proxy: NEWSMAP_PROXIES=1 trusts X-Forwarded-Proto
    answer = client.get(f"/oembed?url={PAGE}", headers={"X-Forwarded-Proto": "https", "Host": "maps.example.org"})
    body = answer.get_json()
    assert body["provider_url"] == "https://maps.example.org/"
    assert Tags(body["html"]).find("iframe")[0]["src"] == f"https://maps.example.org{EMBED}"
    foreign = client.get(f"/oembed?url=https://localhost{PAGE}", headers={"Host": "maps.example.org"})
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"url": ""}, 400),
        ({"url": PAGE, "format": "xml"}, 501),
        ({"url": PAGE, "format": "yaml"}, 501),
        ({"url": f"https://evil.example{PAGE}"}, 404),
        ({"url": f"//evil.example{PAGE}"}, 404),
        ({"url": f"http://localhost:8080{PAGE}"}, 404),
        ({"url": f"javascript:alert(1)//{PAGE}"}, 404),
        ({"url": "/articles/nope"}, 404),
        ({"url": "/data/locations.csv"}, 404),
        ({"url": f"{PAGE}/locations.csv"}, 404),
        ({"url": f"{PAGE}/edit"}, 404),
        ({"url": "/"}, 404),  # the library, not an article
        ({"url": "http://[::1"}, 404),
    ],
)
def test_oembed_errors_are_json(client, params, status):
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    response = client.get(f"/oembed?{query}")
    assert response.status_code == status and response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status and body["error"] and body["message"]


def test_oembed_of_the_home_article_at_slash(workdir):
    client = app_for(workdir, HOME_ARTICLE=SEED_SLUG).test_client()
    answer = client.get("/oembed?url=http://localhost/").get_json()
    assert Tags(answer["html"]).find("iframe")[0]["src"] == f"http://localhost{EMBED}"


def test_oembed_escapes_the_title_in_its_html(tmp_path):
    write_payload_site(tmp_path)
    answer = app_for(tmp_path).test_client().get(f"/oembed?url=/articles/{PAYLOAD_SLUG}").get_json()
    assert answer["title"] == 'Payloads <script>alert("xss-title")</script>'
    assert "<script" not in answer["html"] and "&lt;script&gt;alert(&quot;xss-title&quot;)" in answer["html"]
    assert Tags(answer["html"]).find("iframe")[0]["title"] == f"Map: {answer['title']}"


def test_article_page_links_its_oembed(client):
    page = client.get(PAGE).get_data(as_text=True)
    (link,) = Tags(page).find("link", rel="alternate", type="application/json+oembed")
    assert link["href"] == f"/oembed?url=%2Farticles%2F{SEED_SLUG}&format=json" and link["title"] == TITLE
    assert client.get(link["href"]).get_json()["title"] == TITLE
