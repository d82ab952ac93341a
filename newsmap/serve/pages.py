"""Pure functions that turn one article and its rows into what its page shows.

Kept apart from `site` (which decides when to build) so each can be tested on plain data.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from newsmap.article import Article
from newsmap.corrections import Correction, active
from newsmap.schema import FAMILIES, category_family
from newsmap.serve.mapview import ZOOM_BY_PRECISION


def category_index(labels: list[str]) -> dict[str, int]:
    """Legend order: military facilities, proposed bases, meeting places, other places."""

    def rank(label: str) -> tuple[int, str]:
        return (FAMILIES.index(category_family(label)), label)

    return {label: index for index, label in enumerate(sorted(set(labels), key=rank))}


def legend(places: list[dict[str, Any]], index: dict[str, int]) -> list[dict[str, Any]]:
    """One legend entry per category, in legend order, with how many places it holds."""
    return [
        {
            "index": i,
            "label": label,
            "family": category_family(label),
            "count": sum(p["category"] == label for p in places),
        }
        for label, i in sorted(index.items(), key=lambda item: item[1])
    ]


def tile_origin(tiles: str) -> str:
    """The origin the CSP must allow images from: "https://*.tile.example.org" for "{s}" URLs."""
    if tiles == "offline":
        return ""
    parts = urlsplit(tiles.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


def sentence_segments(article: Article, mentions: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Paragraphs of sentences, each cut into runs of text that link to at most one place.

    Mentions nest ("air base in Kant" holds "Kant"): each run links to the innermost mention
    covering it, so both the facility and the town stay clickable without nested links; `also`
    names the places of the mentions around it, so the air base's quote marks all of its words.
    """
    by_sentence: dict[int, list[dict[str, Any]]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention["sentence"], []).append(mention)
    title = article.title.strip()
    paragraphs = []
    for paragraph in article.paragraphs():
        rendered = []
        for sentence in paragraph:
            inside = by_sentence.get(sentence.index, [])
            cuts = sorted({sentence.start, sentence.end, *(m["start"] for m in inside), *(m["end"] for m in inside)})
            segments = []
            for a, b in itertools.pairwise(cuts):
                covering = [m for m in inside if m["start"] <= a and m["end"] >= b]
                best = min(covering, key=lambda m: m["end"] - m["start"]) if covering else None
                segments.append(
                    {
                        "text": article.text[a:b],
                        "place": best["place_id"] if best else "",
                        "role": best["role"] if best else "",
                        # the places of the mentions around it, which its popup quote marks too
                        "also": " ".join(sorted({m["place_id"] for m in covering} - {best["place_id"]})) if best else "",
                    }
                )
            rendered.append(
                {
                    "index": sentence.index,
                    "segments": segments,
                    "title_line": article.sentence_text(sentence).strip() == title,
                }
            )
        paragraphs.append(rendered)
    return paragraphs


LIST_QUOTE_LIMIT = 80  # characters of a quote the places list shows (two lines of its column)
LIST_QUOTE_BEFORE = 30  # of which at most this many before the place's own mention
QUOTE_MARKS = "“”\"'‘’«»„"


def list_quote(quote: str, names: list[str], limit: int = LIST_QUOTE_LIMIT) -> str:
    """The part of a place's quote around its own mention, in quotation marks, for the places list.

    Six places quoted from one long sentence then show six different parts of it, each with the
    place's name, instead of the sentence's same opening words; a quote that starts or ends with
    its own quotation mark gets no second one.
    """
    text = " ".join(quote.split())
    at, needle = next(((text.find(n), n) for n in names if n and n in text), (0, ""))
    if len(text) > limit:
        start = max(0, at - LIST_QUOTE_BEFORE)  # the mention early: the list shows two lines of it
        if start:
            space = text.find(" ", start, at) if at > start else -1
            start = space + 1 if space != -1 else start
        end = min(len(text), max(start + limit, at + len(needle)))
        if end < len(text):
            space = text.rfind(" ", at + len(needle), end)
            end = space if space != -1 else end
        text = ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
    return text if text[:1] in QUOTE_MARKS else f"“{text}”"  # a quote that opens with its own mark keeps it alone


# What a popup shows at once. Each place's source (citations run to 250 characters) comes with the
# article's JSON, which newsmap.js fetches on the reader's first move: a lighter page to start with.
PAGE_FIELDS = ("id", "name", "article_name", "kind", "category", "status", "lat", "lon", "precision", "context")


UNINFLECTED = frozenset({"en", ""})  # languages whose mentions spell the name itself, not a case of it


def shown_names(
    places: list[dict[str, Any]],
    mentions: list[dict[str, Any]],
    renamed: frozenset[str] = frozenset(),
    language: str = "en",
) -> dict[str, str]:
    """{place id: the name to show first}: the article's own spelling of the place's name.

    "Chaldybar" as the article writes it, not the gazetteer's "Chaldovar" (which is shown beside
    it); the most frequent spelling among the place's plain name mentions (not in capitals), first
    one on a tie. In a language that declines its names (Russian: «в Оше», «Южной Осетии») a mention
    is a case of the name, so the name shown is the one the geoparser read them all as, in the
    article's spelling (`article_name`: «Ош», «Южная Осетия»). A
    place named only through a phrase ("air base in Kant") or an adjective keeps the gazetteer's name,
    and so does a place whose name an editor corrected (`renamed`): what they chose is shown.
    """
    spellings: dict[str, Counter[str]] = {}
    first: dict[tuple[str, str], int] = {}
    for m in mentions:
        if m["role"] == "toponym":
            spellings.setdefault(m["place_id"], Counter())[m["text"]] += 1
            first.setdefault((m["place_id"], m["text"]), m["start"])
    shown = {}
    for place in places:
        counts = spellings.get(place["id"])
        if not counts or place["id"] in renamed:
            shown[place["id"]] = place["name"]
            continue
        if language not in UNINFLECTED and place.get("article_name"):
            shown[place["id"]] = place["article_name"]
            continue
        # A dateline's capitals ("BISHKEK, 12 May") are the style, not the spelling.
        best = max(counts, key=lambda text: (not text.isupper(), counts[text], -first[(place["id"], text)]))
        shown[place["id"]] = " ".join(best.split())
    return shown


def mention_spans(mentions: list[dict[str, Any]]) -> dict[str, list[list[int]]]:
    """{place id: [[sentence, start, end], ...]} with offsets inside the sentence: what the editing
    page lists and unlinks. Readers' pages do without: their quotes come from the marked-up text."""
    spans: dict[str, list[list[int]]] = {}
    for m in mentions:
        spans.setdefault(m["place_id"], []).append(
            [m["sentence"], m["start"] - m["sentence_start"], m["end"] - m["sentence_start"]]
        )
    return spans


def page_data(
    places: list[dict[str, Any]],
    mentions: list[dict[str, Any]],
    index: dict[str, int],
    tiles: str,
    basemap: dict[str, Any],
    history: History | None = None,
    also: dict[str, dict[str, str]] | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """What newsmap.js needs, beyond the page's own text (whose mention marks give the popups their
    quotes): places, who corrected them, which other articles name them (`also`: a link to the
    place's page, only for those; see `placelinks.also_in`), settings."""
    history = history or History([], [])
    also = also or {}
    shown = shown_names(places, mentions, history.renamed(), language)
    named = history.named_by_editor()  # its popup must not call that name the gazetteer's
    corrected = history.corrected()
    return {
        "places": [
            {
                **{k: p[k] for k in PAGE_FIELDS},
                "shown": shown[p["id"]],
                "cat": index[p["category"]],
                "family": category_family(p["category"]),
                **({"corrected": corrected[p["id"]]} if p["id"] in corrected else {}),
                **({"also": also[p["id"]]} if p["id"] in also else {}),
                **({"named": "editor"} if p["id"] in named else {}),
            }
            for p in places
        ],
        "zoom": ZOOM_BY_PRECISION,
        "tiles": tiles,
        "basemap": basemap,  # what basemap.js fetches its cells from (basemap.spec)
    }


@dataclass(frozen=True)
class History:
    """An article's corrections and the ones that could not be applied: what the page says of them."""

    corrections: list[Correction]
    skipped: list[tuple[int, str]]

    def applied(self) -> list[Correction]:
        failed = {seq for seq, _ in self.skipped}
        return [c for c in active(self.corrections) if c.seq not in failed]

    def renamed(self) -> frozenset[str]:
        """Places whose name an editor set: the page shows that name, not the article's spelling."""
        return frozenset(c.place_id for c in self.applied() if c.field == "name" and c.place_id)

    def named_by_editor(self) -> frozenset[str]:
        """Places whose name came from an editor, not the gazetteer: renamed, or put on the map by hand."""
        made = {c.place_id for c in self.applied() if c.field == "created" and c.place_id}
        return self.renamed() | made

    def corrected(self) -> dict[str, dict[str, str]]:
        """{place id: {by, at, note}} of the latest applied change to each place or its mentions."""
        latest: dict[str, dict[str, str]] = {}
        for c in self.applied():
            place = c.place_id or next(
                (v["place"] for v in (c.new, c.old) if isinstance(v, dict) and isinstance(v.get("place"), str)), ""
            )
            if place:
                latest[place] = {"by": c.editor, "at": c.at[:10], "note": c.note}
        return latest


def script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def page_csp(scripts: list[str], tiles: str) -> str:
    images = " ".join(filter(None, ["'self'", "data:", tile_origin(tiles)]))
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {' '.join(script_hash(s) for s in scripts)}",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def csp_without(csp: str, directive: str) -> str:
    """A policy without one of its directives (an embed sets its own frame-ancestors; a `<meta>`
    policy may not hold one)."""
    return "; ".join(part for part in csp.split("; ") if part.split(" ", 1)[0] != directive)


def compact_script(script: str) -> str:
    """folium's script without its blank lines and indentation (JSON strings never span lines)."""
    return "\n".join(line.strip() for line in script.splitlines() if line.strip())
