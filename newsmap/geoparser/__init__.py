"""The geoparser: an English news article -> the places it names, each put where it really is.

`geoparse_article` is its entry (see `parse`); the modules are its steps, each importable alone:
the gazetteer (`gazetteer`: the offline GeoNames index, curated rows, geopy geocoders), word
lists (`lexicon`), recognition and resolution (`geoparse`), and what a place's row says
(`describe`, `rows`). `child` runs it as a process of its own for the web and `newsmap add`.

Only this package imports geopy, the gazetteer and the word lists. Nothing here imports the
library (`newsmap.library`) or the serve side: the library calls the geoparser, never the reverse.
"""

from newsmap.geoparser.parse import (
    INVISIBLE,
    geoparse_article,
    geoparse_within_limits,
    open_gazetteer,
    sentences_as_seen,
    visible_text,
)

__all__ = [
    "INVISIBLE",
    "geoparse_article",
    "geoparse_within_limits",
    "open_gazetteer",
    "sentences_as_seen",
    "visible_text",
]
