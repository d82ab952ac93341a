"""Reading the seed's page: each place's list entry quotes the words around its own mention, no
doubled quotation marks, the headline not repeated at the top of the text, and the article's
heading above the fold beside the places list."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from html import unescape

import pytest

from newsmap.serve.pages import LIST_QUOTE_LIMIT, list_quote

from .conftest import SEED_SLUG, Watched

SENTENCE = (
    "It includes an airfield in Kant, naval base in Issyk-Kul, seismological center in the town of "
    "Mailuu-Suu and communications center in the village of Chaldybar."
)


@pytest.mark.parametrize("name", ["Kant", "Issyk-Kul", "Mailuu-Suu", "Chaldybar"])
def test_a_long_quote_is_cut_around_the_places_own_mention(name):
    shown = list_quote(SENTENCE, [name])
    assert name in shown and len(shown) <= LIST_QUOTE_LIMIT + 4
    assert shown.startswith("“") and shown.endswith("”")
    core = shown.strip("“”").strip("…")
    assert core in SENTENCE and shown.index(name) <= 40  # within the first of its two lines


def test_quotation_marks_are_never_doubled():
    own = "“With regard to the complex,” Putin said in Sochi."
    assert list_quote(own, ["Sochi"]) == own
    assert list_quote("The largest is the air base in Kant.", ["Kant"]) == "“The largest is the air base in Kant.”"


def place_quotes(html: str) -> dict[str, str]:
    items = re.findall(r'<li id="place-([a-z0-9-]+)".*?<span class="place-quote">(.*?)</span>', html, re.S)
    return {place: unescape(quote) for place, quote in items}


def test_the_list_quotes_each_place_around_its_own_words(client):
    html = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    quotes = place_quotes(html)
    assert len(quotes) == 18
    words: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(client.get(f"/articles/{SEED_SLUG}/mentions.csv").get_data(as_text=True))):
        words.setdefault(row["place_id"], set()).add(row["text"])
    missing = {place: quote for place, quote in quotes.items() if not any(w in quote for w in words[place])}
    assert missing == {}  # every entry shows the place's own words
    assert len(set(quotes.values())) >= 14, Counter(quotes.values()).most_common(3)
    assert "Kant" in quotes["kant"] and "Chaldybar" in quotes["chaldovar"]
    assert not any(quote.startswith(("““", '“"')) for quote in quotes.values())
    assert '<q class="place-quote">' not in html


def test_the_headline_is_not_repeated_at_the_top_of_the_text(client):
    html = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    article = html.split('<article id="article"', 1)[1]
    first = re.search(r"<p( class=\"[^\"]*\")?>", article)
    assert first and 'class="title-paragraph"' in first.group(0)
    assert 'id="sentence-0"' in article  # still there for the popups that quote it


@pytest.mark.browser
def test_the_article_starts_above_the_fold_on_a_desktop(browser, live_server):
    watched = Watched(browser, live_server.url, viewport={"width": 1440, "height": 900})
    page = watched.page
    page.goto(f"{live_server.url}/articles/{SEED_SLUG}")
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    heading = page.locator("#article-heading").bounding_box()
    assert heading is not None and heading["y"] + heading["height"] <= 900
    first_visible = page.locator("#article p:not(.title-paragraph)").first.bounding_box()
    assert first_visible is not None and first_visible["y"] < 900
    title = page.locator("#article .title-paragraph").first.bounding_box()
    assert title is None or title["height"] <= 1
    list_box = page.locator(".place-list").bounding_box()
    assert page.evaluate("() => document.querySelector('.place-list').scrollHeight") > list_box["height"]
    page.locator('.place-list a[data-place="china"]').focus()  # the last entries stay reachable by keyboard
    assert page.evaluate("() => document.activeElement.getAttribute('data-place')") == "china"
    assert watched.errors == []
    watched.close()


@pytest.mark.browser
def test_popup_quotes_mark_every_mention_from_the_text_and_sources_come_with_the_first_move(browser, live_server):
    """The popups' quotes are read from the marked-up text (nested mentions included), and each
    place's source from the article's JSON, fetched once on the reader's first move."""
    watched = Watched(browser, live_server.url, viewport={"width": 1440, "height": 900})
    page = watched.page
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "/api/articles/" in request.url else None)
    page.goto(f"{live_server.url}/articles/{SEED_SLUG}")
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    data = page.evaluate("() => JSON.parse(document.getElementById('newsmap-data').textContent)")
    assert all("source" not in place and "mentions" not in place for place in data["places"])
    assert fetched == []  # nothing asked for before the reader moves
    page.click('.place-link[data-place="kant-air-base"]')
    page.wait_for_selector(".leaflet-popup .nm-popup h2")
    marks = page.eval_on_selector_all(
        ".leaflet-popup blockquote",
        "qs => qs.map(q => [...q.querySelectorAll('mark')].map(m => m.textContent).join(''))",
    )
    assert "Kant Air Base" in marks and "air base in Kant" in marks and "airfield in Kant" in marks
    page.wait_for_function(
        "() => document.querySelector('.leaflet-popup .nm-source').textContent.startsWith('Source: Wikipedia')"
    )
    page.click('.place-link[data-place="bishkek"]')
    page.wait_for_function("() => document.querySelector('.leaflet-popup .nm-popup h2')?.textContent === 'Bishkek'")
    assert page.inner_text(".leaflet-popup .nm-source") == "Source: GeoNames 1528675"
    assert len(fetched) == 1
    assert watched.errors == []
    watched.close()


@pytest.mark.browser
def test_a_popup_says_so_when_the_sources_cannot_be_fetched(browser, live_server):
    watched = Watched(browser, live_server.url, viewport={"width": 1440, "height": 900})
    page = watched.page
    page.route("**/api/articles/**", lambda route: route.abort())  # the server gone, or the reader offline
    page.goto(f"{live_server.url}/articles/{SEED_SLUG}#kant-air-base")
    page.wait_for_function(
        "() => (document.querySelector('.leaflet-popup .nm-source')?.textContent || '').includes('not loaded')"
    )
    assert page.locator(".leaflet-popup .nm-quotes blockquote").count() >= 3
    watched.close()
