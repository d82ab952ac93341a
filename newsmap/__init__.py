"""newsmap: news articles to interactive maps of the places they name.

The folders follow the one-way flow: `geoparser/` (article -> places and mentions), `library/`
(seeds and batches -> the geoparser -> the store and the dataset) and `serve/` (the store ->
pages and downloads); the modules at this level are what they share, and `cli` and `wsgi` are
where they are put together.
"""

__version__ = "0.2.0"
