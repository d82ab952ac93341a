"""newsmap: news articles to interactive maps of the places they name.

The folders follow the one-way flow: `build/` (article -> geoparse -> dataset) and `serve/`
(dataset -> pages and downloads); the modules at this level are what both sides share.
"""

__version__ = "0.2.0"
