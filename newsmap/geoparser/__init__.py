"""The geoparser: an English or Russian news article -> the places it names, each put where it really is.

`geoparse_article` is its entry (`parse`); the modules are its steps, in the order they run:

- `tokens`: the words of a sentence, and the runs of capitalised words they form;
- `recognition` (with `rules`, one function per rule, and `cues`, the patterns of the words
  around a name): the names the gazetteer knows, judged into mentions (`mentions`), and the
  facility and route phrases;
- `resolution` (with `context`, what the article says of its countries and regions, and
  `weights`, how much each clue counts, read from `weights.json`): one place per mention;
- `describe` and `rows`: each place's row (category, status, quote) and each mention's;
- `gazetteer`: the offline GeoNames index, the curated rows, and geopy geocoders (Nominatim too);
  `lexicon/` and `data/`: the word lists and the curated files the package ships;
- `child`: the geoparser as a process of its own, for the web and `newsmap add`;
- `ru`: recognition in Russian (issue 22), imported on the first Russian article only; resolution,
  facility placement and the rows are the English ones (`ru/README.md`).

Only this package imports geopy, the gazetteer and the word lists. Nothing here imports the
library (`newsmap.library`) or the serve side: the library calls the geoparser, never the reverse.
"""

from newsmap.geoparser.gazetteer import open_gazetteer
from newsmap.geoparser.parse import (
    INVISIBLE,
    geoparse,
    geoparse_article,
    geoparse_within_limits,
    sentences_as_seen,
    visible_text,
)

__all__ = [
    "INVISIBLE",
    "geoparse",
    "geoparse_article",
    "geoparse_within_limits",
    "open_gazetteer",
    "sentences_as_seen",
    "visible_text",
]
