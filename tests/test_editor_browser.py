"""An editor in a real Chromium: signs in, pastes an article, uploads an HTML file, deletes an article;
a reader cannot reach the New map page; a form without its CSRF token is refused."""

from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request

import pytest

from newsmap.accounts import add_user
from newsmap.store import connect

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, site_env

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
LOGIN = re.compile(r"/login\?next=(%2F|/)new$")
ARTICLE = (
    "Russia and Kyrgyzstan sign a deal on the Kant air base\n\n"
    "BISHKEK, 12 May. Officials from Russia and Kyrgyzstan met in Bishkek on Monday to sign the deal.\n"
    "The air base in Kant will get new helicopters, and a test range near Osh will open next year.\n"
)


@pytest.fixture(scope="module")
def site(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("editor")
    shutil.copytree(built, root, dirs_exist_ok=True)
    conn = connect(root / "data" / "newsmap.db")
    add_user(conn, "editor", PASSWORD)
    conn.close()
    server = LiveServer(site_env(root))
    yield server
    server.stop()


@pytest.fixture()
def watched(browser, site):
    watched = Watched(browser, site.url)
    yield watched
    watched.close()


def sign_in(page, site) -> None:
    page.goto(f"{site.url}/new")
    page.wait_for_url(LOGIN)
    page.fill("#login-name", "editor")
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/new")


def test_a_reader_cannot_reach_the_new_map_page(watched, site):
    page = watched.page
    page.goto(f"{site.url}/new")
    page.wait_for_url(LOGIN)
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.locator("#text").count() == 0


def test_an_editor_pastes_an_article_and_sees_its_map(watched, site):
    page = watched.page
    sign_in(page, site)
    page.fill("#text", ARTICLE)
    page.fill("#published", "2025-05")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "new-map-form.png"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/articles/russia-and-kyrgyzstan-sign-a-deal-on-the-kant-air-base")
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    names = page.locator(".place-name").all_inner_texts()
    assert {"Bishkek", "Osh", "Kyrgyzstan", "Russia"} <= set(names)
    assert page.locator("h1").inner_text() == "Russia and Kyrgyzstan sign a deal on the Kant air base"
    page.screenshot(path=str(ARTIFACTS / "new-map-result.png"))
    page.goto(f"{site.url}/")
    assert page.locator(".article-item h3 a").first.inner_text().startswith("Russia and Kyrgyzstan sign a deal")
    assert watched.errors == [] and watched.outside == []


def test_an_editor_uploads_an_html_file(watched, site, tmp_path):
    page = watched.page
    sign_in(page, site)
    html = tmp_path / "story.html"
    html.write_text(
        "<html><head><title>Caspian ferries</title></head><body><nav>Menu</nav><article>"
        "<p>Ferries from Baku to Aktau will run daily, officials in Astana said.</p></article></body></html>",
        encoding="utf-8",
    )
    page.set_input_files("#file", str(html))
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/articles/caspian-ferries")
    assert {"Baku", "Aktau", "Astana"} <= set(page.locator(".place-name").all_inner_texts())


def test_a_form_without_its_csrf_token_is_refused(watched, site):
    """The editor's own session cookie, but a form posted from elsewhere (no token): 400, nothing added."""
    page = watched.page
    sign_in(page, site)
    answer = page.request.post(f"{site.url}/new", multipart={"text": ARTICLE.replace("Monday", "Tuesday")})
    assert answer.status == 400 and "CSRF" in answer.text()
    with urllib.request.urlopen(f"{site.url}/api/articles", timeout=10) as listing:
        assert "Tuesday" not in listing.read().decode()


def test_an_editor_deletes_an_article(watched, site):
    page = watched.page
    sign_in(page, site)
    page.fill("#text", "Talks about the border were held in Khujand, Tajikistan.\n")
    page.fill("#title", "Border talks in Khujand")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/articles/border-talks-in-khujand")
    page.goto(f"{site.url}/articles/border-talks-in-khujand/manage")
    page.click("text=Delete this article")
    page.wait_for_url(f"{site.url}/")
    assert "Border talks in Khujand" not in page.content()
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(f"{site.url}/articles/border-talks-in-khujand", timeout=10)
    assert gone.value.code == 404
    with urllib.request.urlopen(f"{site.url}/api/places", timeout=10) as places:
        assert "border-talks-in-khujand" not in places.read().decode()
    with urllib.request.urlopen(f"{site.url}/articles/{SEED_SLUG}", timeout=10) as seed:
        assert seed.status == 200
