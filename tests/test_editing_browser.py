"""An editor fixes the map in a real Chromium: chooses another candidate, drags a marker, adds a
missed place from selected words, removes a false one, undoes, reverts from the history, and sees
a conflict; a reader gets none of the controls. axe in editing mode."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request

import pytest

from newsmap.accounts import add_user
from newsmap.store import connect

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, assert_axe_clean, site_env

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PAGE = f"/articles/{SEED_SLUG}"
EDIT = f"{PAGE}/edit"
API = f"/api/articles/{SEED_SLUG}"


@pytest.fixture()
def site(built, tmp_path):
    """A private site per test: each one changes the article."""
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    conn = connect(tmp_path / "data" / "newsmap.db")
    add_user(conn, "alice", PASSWORD)
    conn.close()
    server = LiveServer(site_env(tmp_path))
    yield server
    server.stop()


@pytest.fixture()
def editor(browser, site):
    watched = Watched(browser, site.url)
    page = watched.page
    page.goto(site.url + EDIT)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#login-name", "alice")
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site.url + EDIT)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    yield watched
    assert watched.errors == [] and watched.outside == []
    watched.close()


def get(site, path: str):
    with urllib.request.urlopen(site.url + path, timeout=30) as answer:
        return json.loads(answer.read())


def saved(page, text: str) -> None:
    """Wait until the page has reloaded after a change and says `text`."""
    page.wait_for_function(
        "text => (document.querySelector('.edit-message')?.textContent || '').includes(text)", arg=text, timeout=15000
    )
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")


def open_editor(page, place_id: str) -> None:
    page.click(f'button[data-edit="{place_id}"]')
    page.wait_for_selector("#nm-edit-panel:not([hidden]) #nm-edit-title")


def test_choose_another_candidate_then_revert_it_from_the_history(editor, site):
    page = editor.page
    before = get(site, f"{API}/places/kant")
    open_editor(page, "kant")
    page.wait_for_selector("#nm-edit-panel .nm-candidates button:not([disabled])")
    candidates = get_candidates(page)
    other = next(c for c in candidates if not c["current"])
    page.locator("#nm-edit-panel textarea.nm-note").fill("wrong Kant")
    page.get_by_role("button", name=f"Use {other['name']}, {other['kind']}").first.click()
    saved(page, "Moved “Kant”")
    moved = get(site, f"{API}/places/kant")
    assert (moved["lat"], moved["lon"]) == (round(other["lat"], 5), round(other["lon"], 5))
    assert moved["source"].startswith(before["source"]) and f" to {other['source']}: wrong Kant" in moved["source"]
    assert (moved["name"], moved["kind"]) == (before["name"], before["kind"])  # moved, not renamed
    assert "Corrected by alice" in page.inner_text("#place-kant")
    page.click("button[data-revert]")
    saved(page, "Reverted change #1")
    back = get(site, f"{API}/places/kant")
    assert (back["lat"], back["lon"], back["source"]) == (before["lat"], before["lon"], before["source"])
    assert [row["state"] for row in get(site, f"{API}/corrections")] == ["reverted", "reverts #1"]


def get_candidates(page) -> list[dict]:
    return page.evaluate(
        "async url => (await (await fetch(url)).json()).candidates", f"{API}/places/kant/candidates"
    )


def test_drag_a_marker(editor, site):
    page = editor.page
    before = get(site, f"{API}/places/osh")
    open_editor(page, "osh")
    page.click("#nm-edit-panel .nm-pick")
    marker = page.locator('.nm-marker[data-place="osh"]')
    box = marker.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 20, steps=5)
    page.mouse.move(x + 60, y + 40, steps=5)
    page.mouse.up()
    saved(page, "Put “Osh” at")
    moved = get(site, f"{API}/places/osh")
    assert moved["precision"] == "manual" and moved["lat"] < before["lat"] and moved["lon"] > before["lon"]
    assert moved["source"].startswith(before["source"] + "; moved by alice on ") and "placed by hand" in moved["source"]


def test_add_a_missed_place_from_selected_words_remove_a_false_one_and_undo(editor, site):
    page = editor.page
    page.evaluate(
        """() => {
          const walker = document.createTreeWalker(document.getElementById('article'), NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode()) && !node.textContent.includes('southern capital')) {}
          const at = node.textContent.indexOf('southern capital');
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 'southern capital'.length);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
        }"""
    )
    add = page.locator("#nm-add-selection")
    add.wait_for(state="visible")
    page.wait_for_function("() => !document.getElementById('nm-add-selection').disabled")
    assert add.inner_text() == "Add “southern capital” as a place"
    add.click()
    page.wait_for_selector("#nm-edit-panel:not([hidden])")
    page.get_by_role("button", name="Click the map to put it there").click()
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + 30)
    saved(page, "Added “southern capital”")
    link = page.locator('a.mention:text-is("southern capital")')
    assert link.count() == 1
    new_id = link.get_attribute("data-place")
    created = get(site, f"{API}/places/{new_id}")
    assert created["precision"] == "manual" and created["mentions"][0]["text"] == "southern capital"
    assert page.locator(f'.nm-marker[data-place="{new_id}"]').count() == 1

    open_editor(page, "sochi")
    remove = page.locator("#nm-edit-panel .nm-danger")
    remove.click()
    assert "Press again to confirm" in remove.inner_text()
    remove.click()
    saved(page, "Removed “Sochi”")
    assert page.locator('.nm-marker[data-place="sochi"]').count() == 0
    assert page.locator('a.mention[data-place="sochi"]').count() == 0 and "Sochi" in page.inner_text("#article")

    page.click("#nm-undo")
    saved(page, "Undone")
    assert page.locator('.nm-marker[data-place="sochi"]').count() == 1
    assert get(site, f"{API}/places/sochi")["id"] == "sochi"


def test_a_conflict_is_shown_not_overwritten(editor, site):
    page = editor.page
    other = editor.context.new_page()
    other.goto(site.url + EDIT)
    other.wait_for_selector(".nm-marker:not(.nm-gathered)")
    open_editor(page, "osh")
    page.locator("#nm-edit-panel .nm-row input").nth(3).fill("first editor's status")
    page.locator("#nm-edit-panel .nm-row button[type=submit]").click()
    saved(page, "Saved “Osh”")
    open_editor(other, "osh")
    other.locator("#nm-edit-panel .nm-row input").nth(3).fill("second editor's status")
    other.locator("#nm-edit-panel .nm-row button[type=submit]").click()
    other.wait_for_function("() => document.querySelector('.edit-alert').textContent.includes('changed by someone else')")
    assert other.locator(".edit-alert button", has_text="Reload").count() == 1
    assert get(site, f"{API}/places/osh")["status"] == "first editor's status"


def test_axe_in_editing_mode_and_screenshots(editor, site):
    page = editor.page
    open_editor(page, "kant-air-base")
    page.wait_for_selector("#nm-edit-panel .nm-candidates li:not(.hint), #nm-edit-panel .nm-candidates li.hint:text('Nothing found.')")
    assert_axe_clean(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editing-panel.png"), full_page=True)
    page.keyboard.press("Tab")  # the panel takes focus when it opens: the keyboard goes on from it
    assert page.evaluate("() => document.getElementById('nm-edit-panel').contains(document.activeElement)")


def test_a_reader_sees_no_editing_controls(browser, site):
    watched = Watched(browser, site.url)
    page = watched.page
    page.goto(site.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    assert page.locator("#nm-undo, .edit-place, #nm-edit-panel, .edit-bar, button[data-revert]").count() == 0
    page.click('a.mention[data-place="kant-air-base"]')
    page.wait_for_selector(".leaflet-popup .nm-popup h2")
    assert page.locator(".leaflet-popup .nm-edit-open").count() == 0
    assert watched.errors == []
    watched.close()
