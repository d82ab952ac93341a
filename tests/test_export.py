"""`newsmap export`: a static site that works from a plain static server, byte-identical twice,
relative links only, a subset of articles, refusals, payloads inert; in a real browser from
`python -m http.server`, every request staying on that server."""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from newsmap.serve import create_app, vendor_files
from newsmap.serve.export import MARK, ExportError, export_site, iter_files, target
from newsmap.settings import bundled

from .conftest import ROOT, SEED_SLUG, Watched, copy_article, free_port

ARTICLE = f"articles/{SEED_SLUG}"


def export(root: Path, out: Path, **options):
    app = create_app({"TESTING": True, "DB": str(root / "data" / "newsmap.db")})
    return export_site(
        root / "data" / "newsmap.db", out, app.jinja_env, bundled("static"), vendor_files(), tiles="offline", **options
    )


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "site"
    done = export(built, out)
    assert done.unmapped == [] and done.articles == 1
    return out


def test_the_export_holds_every_page_and_download(exported):
    names = {p.relative_to(exported).as_posix() for p in iter_files(exported)}
    for name in ("index.html", "articles.json", "data/locations.csv", "data/mentions.csv", "data/locations.geojson",
                 "data/locations.kml", MARK):  # fmt: skip
        assert name in names, name
    for name in ("index.html", "locations.csv", "locations-excel.csv", "mentions.csv", "locations.geojson",
                 "locations.kml", "article.json", "places.json", "corrections.csv", "corrections.json", "basemap.geojson",
                 "embed/index.html"):  # fmt: skip
        assert f"{ARTICLE}/{name}" in names, name
    hashed = [n for n in names if n.startswith(("static/", "vendor/")) and "/images/" not in n]
    assert hashed and all(re.search(r"\.[0-9a-f]{10}\.(js|css)$", n) for n in hashed), hashed
    assert not any("editor" in n for n in names) and "feed.atom" not in names  # a feed needs --base-url
    assert (exported / f"{ARTICLE}/locations-excel.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_pages_link_only_relative_files_that_exist(exported):
    for page in exported.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        links = re.findall(r'\s(?:href|src|data-page|data-embed|data-path)="([^"]*)"', html)
        assert not [link for link in links if link.startswith("/")], page
        for link in links:
            if link.startswith(("#", "https://", "http://")):
                continue
            assert (page.parent / link.split("#")[0]).resolve().is_file(), (page, link)
        assert '<meta http-equiv="Content-Security-Policy"' in html and "frame-ancestors" not in html
        assert "/edit" not in html and "/manage" not in html and 'action="/"' not in html


def test_exporting_twice_gives_the_same_bytes_and_replaces_the_old_export(built, exported, tmp_path):
    again = tmp_path / "again"
    export(built, again)
    comparison = filecmp.dircmp(exported, again)
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files
    assert [p.read_bytes() for p in iter_files(exported)] == [p.read_bytes() for p in iter_files(again)]
    (again / "stale.txt").write_text("from an older export")
    export(built, again)  # an earlier export is replaced whole
    assert not (again / "stale.txt").exists() and (again / "index.html").is_file()
    assert not list(tmp_path.glob(".again.*"))  # no partial or old folder left beside it


def test_a_folder_of_other_files_and_an_unknown_article_are_refused(built, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not an earlier export"):
        export(built, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ExportError, match="no article 'nothing'"):
        export(built, tmp_path / "out", slugs=["nothing"])
    assert not (tmp_path / "out").exists()


def test_some_articles_only(workdir, tmp_path):
    from newsmap.build.pipeline import build

    copy_article("tajikistan-border-2021", workdir / "seeds")
    build(workdir / "seeds", workdir / "data", echo=lambda _: None)
    out = tmp_path / "some"
    done = export(workdir, out, slugs=["tajikistan-border-2021"])
    assert done.articles == 1 and (out / "articles/tajikistan-border-2021/index.html").is_file()
    assert not (out / ARTICLE).exists()
    assert SEED_SLUG not in (out / "index.html").read_text() and SEED_SLUG not in (out / "data/locations.csv").read_text()
    assert "tajikistan-border-2021" in (out / "articles.json").read_text()


def test_server_urls_map_to_export_files():
    assert target("/") == "index.html" and target("/?page=3") == "pages/3.html"
    assert target(f"/articles/{SEED_SLUG}") == f"{ARTICLE}/index.html"
    assert target(f"/articles/{SEED_SLUG}/locations.csv?bom=1") == f"{ARTICLE}/locations-excel.csv"
    assert target(f"/api/articles/{SEED_SLUG}") == f"{ARTICLE}/article.json"
    assert target("/data/locations.kml") == "data/locations.kml"
    assert target(f"/articles/{SEED_SLUG}#kant") == f"{ARTICLE}/index.html#kant"
    for server_only in ("/new", "/login", f"/articles/{SEED_SLUG}/edit", "/api/places/kant", "/?page=x"):
        assert target(server_only) is None, server_only


def test_a_payload_article_stays_inert_in_the_export(tmp_path):
    from newsmap.build.pipeline import build

    from .payloads import write_payload_site

    seeds, data, _ = write_payload_site(tmp_path / "site")
    build(seeds, data, db_path=data / "newsmap.db", echo=lambda _: None)
    out = tmp_path / "out"
    export(tmp_path / "site", out)
    pages = list(out.rglob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html and "</script><script>" not in html
    escaped = (out / "articles" / "payloads" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;xss-script&#34;)&lt;/script&gt;" in escaped  # shown as text
    links = re.findall(r'\s(?:href|src)="([^"]*)"', escaped)
    assert links and not [link for link in links if link.startswith(("/", "javascript:"))]


def test_the_command_line_exports(built, tmp_path):
    out = tmp_path / "cli"
    db = str(built / "data" / "newsmap.db")
    run = subprocess.run([sys.executable, "-m", "newsmap", "export", str(out), "--db", db, "--base-url", "ftp://x"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert run.returncode == 1 and "--base-url must start with https://" in run.stderr
    run = subprocess.run([sys.executable, "-m", "newsmap", "export", str(out), "--db", db, "--base-url",
                          "https://maps.example.org/story/", "--tiles", "offline"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert re.search(r"exported 1 articles: \d+ files, [\d.]+ MB -> ", run.stdout)
    page = (out / ARTICLE / "index.html").read_text()
    assert f'<link rel="canonical" href="https://maps.example.org/story/{ARTICLE}/">' in page
    feed = (out / "feed.atom").read_text()
    assert f"<id>https://maps.example.org/story/{ARTICLE}</id>" in feed
    assert '<a href="feed.atom">Atom feed</a>' in (out / "index.html").read_text()


@pytest.mark.browser
def test_an_exported_article_works_from_a_plain_static_server(browser, exported):
    port = free_port("127.0.0.1")
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=exported,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    origin = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(origin)
        watched = Watched(browser, origin)
        page = watched.page
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(origin + "/")
        page.click(f'a[href="{ARTICLE}/index.html"]')
        page.wait_for_selector(".nm-marker:not(.nm-gathered)")
        page.wait_for_selector('path.nm-land:not([d="M0 0"])')  # the outlines came from basemap.geojson beside the page
        page.click('a.mention[data-place="kant-air-base"]')
        page.wait_for_function("() => document.querySelector('.leaflet-popup .nm-popup h2')?.textContent === 'Kant Air Base'")
        page.goto(origin + f"/{ARTICLE}/index.html#issyk-kul-naval-test-base")
        page.wait_for_selector(".leaflet-popup .nm-popup h2")
        for link in page.locator(".downloads a").all():
            href = link.get_attribute("href")
            with urllib.request.urlopen(f"{origin}/{ARTICLE}/{href}", timeout=10) as answer:
                assert answer.status == 200 and answer.read(), href
        assert watched.errors == [] and watched.outside == []
        assert requests and all(url.startswith(origin) for url in requests)
        watched.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(origin: str) -> None:
    import time

    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(origin + "/index.html", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
