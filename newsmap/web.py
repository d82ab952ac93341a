"""Routes. Placeholder page until the map lands; the dataset is read once per version."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, render_template_string

from newsmap.dataset import Dataset

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>newsmap</title></head>
<body><h1>Places</h1><ul>{% for p in places %}<li>{{ p.name }} ({{ p.kind }}, {{ p.precision }}):
{{ p.quote }}</li>{% endfor %}</ul></body></html>"""


def init_app(app: Flask) -> None:
    @app.get("/")
    def index() -> str:
        dataset = Dataset.load(Path(app.config["DATA_DIR"]))
        return render_template_string(_PAGE, places=dataset.locations)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")
