"""Shared fixtures: the Flask app, client and CLI runner of Flask's tutorial, plus the pipeline's parts."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from app import create_app
from newsmap.article import Article, load_article
from newsmap.dataset import read_table
from newsmap.geoparser.gazetteer import DEFAULT_CURATED, Gazetteer
from newsmap.library.pipeline import build

# The server helper lives in tests/liveserver.py (the benchmarks use it too); test files import it from here.
from .liveserver import LiveServer, site_env
from .liveserver import free_port as free_port

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_SLUG = "kyrgyzstan-russian-bases-2019"  # the first article, kept in tests/fixtures as published


def copy_article(slug: str, seeds: Path) -> None:
    """Put a fixture article (its .txt and .json) into a seeds folder."""
    seeds.mkdir(parents=True, exist_ok=True)
    for suffix in (".txt", ".json"):
        if (FIXTURES / f"{slug}{suffix}").exists():
            shutil.copy(FIXTURES / f"{slug}{suffix}", seeds / f"{slug}{suffix}")


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.open(DEFAULT_CURATED)


@pytest.fixture(scope="session")
def seed() -> Article:
    return load_article(FIXTURES / f"{SEED_SLUG}.txt")


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A folder with seeds/ (the first article only) and the data/ the build makes of it, built once.

    Tests never read the repository's seeds/ or data/, so they hold whatever those hold.
    """
    root = tmp_path_factory.mktemp("built")
    build_library(root, [SEED_SLUG])
    return root


def build_library(root: Path, slugs: list[str] | tuple[str, ...]) -> Path:
    """`root/seeds` with the fixture articles `slugs`, and `root/data` as `newsmap build` makes it;
    the database's path."""
    for slug in slugs:
        copy_article(slug, root / "seeds")
    build(root / "seeds", root / "data", db_path=root / "data" / "newsmap.db", echo=lambda _: None)
    return root / "data" / "newsmap.db"


@pytest.fixture()
def workdir(built: Path, tmp_path: Path) -> Path:
    """A private copy of `built`, to build and break."""
    shutil.copytree(built / "seeds", tmp_path / "seeds")
    shutil.copytree(built / "data", tmp_path / "data")
    return tmp_path


@pytest.fixture()
def rows(workdir: Path) -> list[dict[str, str]]:
    """The places of the first article, as the build wrote them."""
    return read_table(workdir / "data" / "locations.csv")


def app_for(root: Path, **config: object):
    """The real app on a folder's database (data/newsmap.db), as tests configure it."""
    return create_app({"TESTING": True, "DB": str(root / "data" / "newsmap.db"), **config})


@pytest.fixture()
def app(workdir: Path):
    return app_for(workdir)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def live_server(built: Path):
    server = LiveServer(site_env(built))
    yield server
    server.stop()


# --------------------------------------------------------------------------- browser


CHROMIUM = os.environ.get("NEWSMAP_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = ROOT / "test-artifacts"
TILE = re.compile(r"^https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png$")


def grey_png() -> bytes:
    """A 1x1 light grey PNG: what the stand-in tile server answers."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xe8\xe8\xe4"))
        + chunk(b"IEND", b"")
    )


BLANK_PNG = grey_png()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def assert_axe_clean(page) -> None:
    """axe-core (axe-playwright-python) finds no serious or critical accessibility violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]


class Watched:
    """A page with its console errors, page errors and off-origin requests recorded."""

    def __init__(self, browser, origin: str, tiles: str = "serve", **context_args) -> None:
        self.context = browser.new_context(**{"viewport": {"width": 1400, "height": 900}, **context_args})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.tiles: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))

        def route(route) -> None:
            url = route.request.url
            if url.startswith(origin):
                route.continue_()
            elif TILE.match(url):
                self.tiles.append(url)
                if tiles == "serve":
                    route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)
                else:
                    route.abort()
            else:
                self.outside.append(url)
                route.abort()

        self.page.route("**/*", route)

    def close(self) -> None:
        self.context.close()
