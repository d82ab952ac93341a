"""A seed and a dataset whose every text field carries a script-injection payload.

The article holds each payload inside a sentence; each place's name, spelling, kind, status,
category, context and source is a payload, its quote is the payload's sentence, and its
mention spans the payload itself. The rows are schema-valid, so the app must serve them.
"""

from __future__ import annotations

from pathlib import Path

from newsmap.article import article_from_text, load_article
from newsmap.dataset import write_dataset
from newsmap.store import Store

PAYLOADS = (
    '<script>alert("xss-script")</script>',
    '<img src=x onerror=alert("xss-img")>',
    '${alert("xss-template")}',
    'back\\`tick`${alert("xss-backtick")}`',
    '</script><script>alert("xss-close")</script>',
)
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR")
SLUG = "payloads"


def write_payload_site(root: Path) -> tuple[Path, Path, list[dict]]:
    seeds, data = root / "seeds", root / "data"
    seeds.mkdir(parents=True)
    lines = ["Payload test <b>title</b> & ${x}", ""]
    for payload in PAYLOADS + FORMULAS:
        lines.append(f"The place called {payload.strip()} was named here.")
    text = "\n".join(lines) + "\n"
    (seeds / f"{SLUG}.txt").write_text(text, encoding="utf-8")
    (seeds / f"{SLUG}.json").write_text(
        '{"title": "Payloads <script>alert(\\"xss-title\\")</script>", "publisher": "<i>pub</i>"}', encoding="utf-8"
    )
    article = article_from_text(SLUG, text)
    locations, mentions = [], []
    for number, payload in enumerate(PAYLOADS + FORMULAS):
        surface = payload.strip()
        sentence = article.sentences[number + 1]
        start = text.index(surface, sentence.start)
        place_id = f"payload-{number}"
        locations.append(
            {
                "id": place_id, "name": payload, "article_name": surface, "kind": payload, "category": payload if number == 0 else "other mentioned place",
                "status": payload, "lat": 40.0 + number, "lon": -70.0 - number, "precision": "settlement",
                "quote": article.sentence_text(sentence), "mentions": 1, "source": payload, "article": SLUG, "country": "", "context": payload,
                "key": f"curated:{place_id}",
            }
        )  # fmt: skip
        mentions.append(
            {
                "place_id": place_id, "article": SLUG, "role": "toponym", "sentence": sentence.index,
                "sentence_start": sentence.start, "sentence_end": sentence.end, "start": start, "end": start + len(surface), "text": surface,
            }
        )  # fmt: skip
    write_dataset(data, locations, mentions)
    store = Store.open(data / "newsmap.db")
    store.put_article(load_article(seeds / f"{SLUG}.txt"), locations, mentions)
    store.close()
    return seeds, data, locations
