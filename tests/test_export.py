"""`newsmap export`: a static site that works from a plain static server, byte-identical twice,
relative links only, a subset of articles, refusals, payloads inert; a re-export that refreshes
its own files and keeps the user's (CNAME, .git/); in a real browser from `python -m http.server`,
every request staying on that server."""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from newsmap.serve import create_app, vendor_files
from newsmap.serve.export import LEGACY_MARK, MANIFEST, ExportError, export_site, iter_files, target
from newsmap.settings import bundled
from newsmap.store import Store

from .conftest import ROOT, SEED_SLUG, Watched, copy_article, free_port
from .liveserver import wait_for_health

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
                 "data/locations.kml", MANIFEST):  # fmt: skip
        assert name in names, name
    for name in ("index.html", "locations.csv", "locations-excel.csv", "mentions.csv", "locations.geojson",
                 "locations.kml", "article.json", "places.json", "corrections.csv", "corrections.json", "basemap.geojson",
                 "embed/index.html"):  # fmt: skip
        assert f"{ARTICLE}/{name}" in names, name
    hashed = [n for n in names if n.startswith(("static/", "vendor/")) and "/images/" not in n]
    assert hashed and all(re.search(r"\.[0-9a-f]{10}\.(js|css)$", n) for n in hashed), hashed
    assert not any("editor" in n for n in names) and "feed.atom" not in names  # a feed needs --base-url
    assert (exported / f"{ARTICLE}/locations-excel.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (exported / "favicon.ico").read_bytes() == (ROOT / "static" / "favicon.ico").read_bytes()


def test_downloads_are_named_apart_and_the_site_has_an_icon(client):
    """Two files saved from one page never share a name (the Excel CSV overwrote the CSV); a KML is
    named after the article's title, as Google Earth lists it; /favicon.ico is newsmap's own icon."""
    html = client.get(f"/{ARTICLE}").get_data(as_text=True)
    names = re.findall(r' download="([^"]+)"', html)
    assert f"{SEED_SLUG}-locations-excel.csv" in names and len(names) == len(set(names))
    excel = client.get(f"/{ARTICLE}/locations.csv?bom=1")
    assert f'filename="{SEED_SLUG}-locations-excel.csv"' in excel.headers["Content-Disposition"]
    kml = client.get(f"/{ARTICLE}/locations.kml").get_data(as_text=True)
    assert "<name>Status of Russian Kant Air Base in Kyrgyzstan to be changed</name>" in kml
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon" and icon.data[:4] == b"\x00\x00\x01\x00"
    assert len(icon.data) < 4096
    assert "Story maps of 1 news article:" in client.get("/").get_data(as_text=True)  # not "1 news articles"


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
    assert not list(tmp_path.glob(".again.*"))  # no partial folder left beside it


def test_the_manifest_lists_every_file_the_export_wrote_and_nothing_else(exported):
    manifest = json.loads((exported / MANIFEST).read_text(encoding="utf-8"))
    files = {p.relative_to(exported).as_posix(): p for p in iter_files(exported)}
    assert set(manifest["files"]) == set(files) - {MANIFEST}
    for name, entry in manifest["files"].items():
        body = files[name].read_bytes()
        assert entry == {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}, name


USER_FILES = {  # what a user keeps beside a published export
    "CNAME": b"maps.example.org\n",
    ".git/HEAD": b"ref: refs/heads/main\n",
    ".git/objects/ab/cdef": b"\x78\x01\x00binary",
    "README.md": b"# Our maps\n",
    "articles/NOTES.txt": b"in the export's own folder\n",
}


def add_copy(root: Path, slug: str) -> None:
    """A second article in the library: the first one's text and rows under another slug."""
    store = Store.open(root / "data" / "newsmap.db")
    try:
        article = dataclasses.replace(store.article(SEED_SLUG), slug=slug)
        places, mentions = store.geoparsed(SEED_SLUG)
        store.put_article(article, [{**r, "article": slug} for r in places], [{**r, "article": slug} for r in mentions])
    finally:
        store.close()


def test_exporting_again_keeps_the_users_files_and_refreshes_its_own(workdir, tmp_path):
    add_copy(workdir, "second-story")
    out = tmp_path / "site"
    export(workdir, out)
    assert (out / "articles/second-story/embed/index.html").is_file()
    for name, body in USER_FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(body)
    unchanged = out / ARTICLE / "locations.csv"
    os.utime(unchanged, (1_000_000_000, 1_000_000_000))
    store = Store.open(workdir / "data" / "newsmap.db")
    try:
        assert store.delete_article("second-story")
    finally:
        store.close()

    export(workdir, out)
    for name, body in USER_FILES.items():
        assert (out / name).read_bytes() == body, name  # byte for byte
    assert not (out / "articles/second-story").exists()  # an article gone from the library goes from the folder
    assert "second-story" not in (out / "data/locations.csv").read_text() + (out / "index.html").read_text()
    assert unchanged.stat().st_mtime == 1_000_000_000  # same bytes: left alone, so a sync sends only changes
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert not any(name.startswith("articles/second-story/") for name in manifest)
    assert not set(USER_FILES) & set(manifest), "the user's files are never the export's"
    fresh = tmp_path / "fresh"
    export(workdir, fresh)
    ours = {p.relative_to(out).as_posix() for p in iter_files(out)} - set(USER_FILES)
    assert ours == {p.relative_to(fresh).as_posix() for p in iter_files(fresh)}
    assert all((out / name).read_bytes() == (fresh / name).read_bytes() for name in ours)
    assert not list(tmp_path.glob(".site.*"))  # no partial folder left beside it


def test_a_users_file_where_the_export_writes_is_refused_and_kept(built, tmp_path):
    out = tmp_path / "site"
    export(built, out)
    before = snapshot(out)
    (out / "data" / "locations.csv").unlink()  # gone from the folder, but the export's own: rewritten
    (out / "feed.atom").write_text("my own feed")  # not written by the export yet, but --base-url writes it
    with pytest.raises(ExportError, match=r"site/feed\.atom: not written by an earlier export") as refused:
        export(built, out, base_url="https://maps.example.org/")
    assert "\n" not in str(refused.value)
    after = snapshot(out)
    assert after.pop("feed.atom") == b"my own feed"
    assert after == {k: v for k, v in before.items() if k != "data/locations.csv"}, "nothing was changed"
    (out / "feed.atom").unlink()
    export(built, out, base_url="https://maps.example.org/")
    assert (out / "feed.atom").read_text().startswith("<?xml") and (out / "data/locations.csv").is_file()


def test_a_users_folder_where_the_export_writes_a_file_is_refused(built, tmp_path):
    out = tmp_path / "site"
    export(built, out)
    (out / "articles.json").unlink()
    (out / "articles.json").mkdir()
    (out / "articles.json" / "mine.txt").write_text("keep me")
    with pytest.raises(ExportError, match=r"articles\.json: not written by an earlier export, and a folder"):
        export(built, out)
    assert (out / "articles.json" / "mine.txt").read_text() == "keep me"


def test_a_manifest_that_leaves_the_folder_is_refused(built, tmp_path):
    out = tmp_path / "site"
    export(built, out)
    (tmp_path / "precious.txt").write_text("outside the export")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["../precious.txt"] = {"bytes": 18, "sha256": "0" * 64}
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="outside the folder"):
        export(built, out)
    assert (tmp_path / "precious.txt").read_text() == "outside the export"


def test_an_export_from_before_the_manifest_is_adopted(built, tmp_path):
    """Such a folder was swapped in whole: its files at the export's paths are the export's; the
    rest (what the user added since) is kept; the old mark gives way to the manifest."""
    out = tmp_path / "site"
    export(built, out)
    (out / MANIFEST).unlink()
    (out / LEGACY_MARK).write_text("A static export of a newsmap library; `newsmap export` replaces it.\n")
    (out / "CNAME").write_text("maps.example.org\n")
    export(built, out)
    assert (out / MANIFEST).is_file() and not (out / LEGACY_MARK).exists()
    assert (out / "CNAME").read_text() == "maps.example.org\n"
    assert "CNAME" not in json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in iter_files(root)}


def test_a_folder_of_other_files_and_an_unknown_article_are_refused(built, tmp_path):
    mine = tmp_path / "mine"
    (mine / ".git").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep me")
    (mine / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = snapshot(mine)
    with pytest.raises(ExportError, match=r"mine: holds other files and is not an earlier export \(no \.newsmap-export\.json\)"):
        export(built, mine)
    assert snapshot(mine) == before and sorted(p.name for p in mine.iterdir()) == [".git", "notes.txt"]
    assert not list(tmp_path.glob(".mine.*"))
    with pytest.raises(ExportError, match="no article 'nothing'"):
        export(built, tmp_path / "out", slugs=["nothing"])
    assert not (tmp_path / "out").exists()


def test_some_articles_only(workdir, tmp_path):
    from newsmap.library.pipeline import build

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
    from newsmap.library.pipeline import build

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
    assert re.search(r"exported 1 article: \d+ files, [\d.]+ MB -> ", run.stdout)
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
        wait_for_health(origin, server, timeout=20, name="http.server", path="/index.html")
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


