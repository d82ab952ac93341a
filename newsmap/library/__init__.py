"""Where the library lives beside its store: the code that fills it and asks it, calling the geoparser.

- `pipeline`: `newsmap build`, seeds/ -> geoparse -> the SQLite store -> data/*.csv;
- `batch`: `newsmap geoparse`, many articles at once (locally or on a Dask cluster);
- `lookup`: what the editing page asks the gazetteer (candidates, search, a picked entry).

This file imports nothing, so `import newsmap.library.batch` (the `newsmap` command registering
`geoparse`) loads neither the geoparser nor Dask; each module imports what it needs. The serve
side never imports this package: its composition root (`newsmap.wsgi`) hands it a lookup.
"""
