"""The geoparser as a child process (`python -m newsmap.geoparser.child`), for `newsmap.geoparse_pool`.

It reads one JSON request per line on stdin (`{"text", "title", "publisher", "published", "url",
"language", "limits"}`), geoparses the article with the gazetteer it opened once, and writes one JSON answer
per line on stdout: `{"ok": true, "slug", "title", "sentences", "locations", "mentions"}`, or
`{"ok": false, "error"}` for an article the limits refuse. It stores nothing: the process that
asked stores the rows, so killing this one at any moment changes nothing. It ends when its stdin
closes (the asking process ended).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from newsmap.adding import Limits
from newsmap.article import ArticleError, article_from_text
from newsmap.geoparser import geoparse_within_limits, open_gazetteer, sentences_as_seen
from newsmap.geoparser.gazetteer import Gazetteer, default_cache_dir
from newsmap.settings import Settings
from newsmap.slugs import slugify


def geoparse_request(request: Mapping[str, Any], gazetteer: Gazetteer) -> dict[str, Any]:
    """The answer to one request (see the module's docstring)."""
    meta = {key: str(request.get(key) or "") for key in ("title", "publisher", "published", "url", "language")}
    article = article_from_text("", str(request["text"]), **meta)  # its title: the given one, or the first line
    # The slug the rows carry for now; the store picks the free one inside its transaction.
    article = sentences_as_seen(dataclasses.replace(article, slug=slugify(article.title, fallback="article")))
    article = dataclasses.replace(article, language=meta["language"])  # kept, whatever made the sentences
    limits = Limits(**{key: int(value) for key, value in dict(request.get("limits") or {}).items()})
    try:
        locations, mentions = geoparse_within_limits(article, gazetteer, None, limits)
    except ArticleError as error:
        return {"ok": False, "error": str(error)}
    return {
        "ok": True,
        "slug": article.slug,
        "title": article.title,
        "sentences": [dataclasses.astuple(sentence) for sentence in article.sentences],
        "locations": locations,
        "mentions": mentions,
    }


def main() -> None:
    answers = os.fdopen(os.dup(1), "wb")  # the protocol's own channel...
    os.dup2(2, 1)  # ...and anything else printed goes to stderr (the server's log), never into an answer
    settings = Settings.from_env()
    gazetteer = open_gazetteer(settings.gazetteer, default_cache_dir())
    for line in sys.stdin.buffer:
        answer = geoparse_request(json.loads(line), gazetteer)
        answers.write(json.dumps(answer, ensure_ascii=False).encode("utf-8") + b"\n")
        answers.flush()


if __name__ == "__main__":
    main()
