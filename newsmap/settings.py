"""Every setting newsmap reads from the environment, in one place.

`SETTINGS` is the table the README's configuration section mirrors (a test compares them);
`Settings.from_env()` turns the environment into typed values. No other module reads
`os.environ`, so what can be configured is exactly what this file lists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


@dataclass(frozen=True)
class Setting:
    env: str
    default: str  # as the README shows it; "" means unset
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", "Where `make run`, `make serve`, `newsmap run` and `newsmap serve` listen."),
    Setting("PORT", "5000", "The port they listen on."),
    Setting("NEWSMAP_DATA_DIR", "data", "Folder of `locations.csv` and `mentions.csv` (read by the app, written by the build), relative to the current folder."),
    Setting("NEWSMAP_SEEDS_DIR", "seeds", "Folder of articles: `<slug>.txt`, with optional `<slug>.json` metadata (`title`, `publisher`, `published`, `url`)."),
    Setting("NEWSMAP_HOME_ARTICLE", "", "Slug of the article `/` shows; unset, `/` shows the newest article (by `published`, then slug)."),
    Setting("NEWSMAP_TILES", OSM_TILES, "Tile URL template, or `offline` for the bundled country outlines only."),
    Setting("NEWSMAP_TILES_ATTRIBUTION", "OpenStreetMap's", "Attribution shown for those tiles."),
    Setting("NEWSMAP_GEOCODER", "offline", "`offline` or `nominatim` for the build (same as `--geocoder`)."),
    Setting("NEWSMAP_GAZETTEER", "data/gazetteer.csv", "The curated gazetteer the build reads (same as `--gazetteer`); the default is the copy shipped with newsmap."),
    Setting("NEWSMAP_NOMINATIM_URL", "https://nominatim.openstreetmap.org", "Nominatim server for `--geocoder nominatim`."),
    Setting("NEWSMAP_NOMINATIM_DELAY", "1.0", "Seconds between Nominatim requests (the public server allows one a second)."),
    Setting("NEWSMAP_NOMINATIM_TIMEOUT", "10", "Seconds to wait for a Nominatim answer."),
    Setting("NEWSMAP_NOMINATIM_CACHE", "", "On-disk cache of Nominatim answers; unset, `nominatim.json` in the cache folder."),
    Setting("NEWSMAP_CACHE_DIR", "~/.cache/newsmap", "Where the GeoNames index (SQLite, built once, ~50 MB) is kept, shared by every folder you build in (`$XDG_CACHE_HOME/newsmap` when `XDG_CACHE_HOME` is set)."),
    Setting("NEWSMAP_MAX_CSV_MB", "10", "Largest `locations.csv`/`mentions.csv` the app serves; a bigger one gets a clear 503 (a map of that many places is no longer readable). `validate` checks any size."),
    Setting("NEWSMAP_MAX_ARTICLE_KB", "500", "Largest article the build (and later the web and API) accepts, in kilobytes of UTF-8; a bigger one is skipped with a one-line reason."),
    Setting("NEWSMAP_MAX_PLACES", "1000", "Most places one article may name; an article with more is skipped with a one-line reason."),
    Setting("NEWSMAP_MAX_MENTIONS", "10000", "Most place mentions one article may hold; likewise."),
    Setting("NEWSMAP_RECHECK_SECONDS", "1", "How often the app looks whether the data files changed (a rebuilt dataset is served within this delay)."),
)  # fmt: skip


def bundled(relative: str) -> Path:
    """A file shipped with newsmap: inside the installed package, or at the top of a source checkout.

    The wheel puts `templates/`, `static/` and `data/gazetteer.csv` inside the package
    (pyproject's force-include); a checkout keeps them at the top level, as the design card says.
    """
    inside = PACKAGE_DIR / relative
    return inside if inside.exists() else PACKAGE_DIR.parent / relative


def _positive(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return number


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    seeds_dir: Path
    home_article: str
    tiles: str
    tiles_attribution: str
    geocoder: str
    gazetteer: Path
    nominatim_url: str
    nominatim_delay: float
    nominatim_timeout: float
    nominatim_cache: Path | None  # None: nominatim.json in the build's cache folder
    cache_dir: Path
    max_csv_mb: float
    max_article_kb: float
    max_places: int
    max_mentions: int
    recheck_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Typed settings; an unset or empty variable takes its default."""
        env = os.environ if environ is None else environ
        raw = {s.env: (env.get(s.env) or s.default) for s in SETTINGS}
        if env.get("NEWSMAP_CACHE_DIR") or not env.get("XDG_CACHE_HOME"):
            cache_dir = Path(raw["NEWSMAP_CACHE_DIR"]).expanduser()
        else:
            cache_dir = Path(env["XDG_CACHE_HOME"]) / "newsmap"
        port = raw["PORT"]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"PORT must be a port number, not {port!r}")
        return cls(
            host=raw["HOST"],
            port=int(port),
            data_dir=Path(raw["NEWSMAP_DATA_DIR"]),
            seeds_dir=Path(raw["NEWSMAP_SEEDS_DIR"]),
            home_article=raw["NEWSMAP_HOME_ARTICLE"],
            tiles=raw["NEWSMAP_TILES"],
            tiles_attribution=env.get("NEWSMAP_TILES_ATTRIBUTION") or OSM_ATTRIBUTION,
            geocoder=raw["NEWSMAP_GEOCODER"],
            gazetteer=Path(env["NEWSMAP_GAZETTEER"]) if env.get("NEWSMAP_GAZETTEER") else bundled("data/gazetteer.csv"),
            nominatim_url=raw["NEWSMAP_NOMINATIM_URL"],
            nominatim_delay=float(raw["NEWSMAP_NOMINATIM_DELAY"]),
            nominatim_timeout=_positive("NEWSMAP_NOMINATIM_TIMEOUT", raw["NEWSMAP_NOMINATIM_TIMEOUT"]),
            nominatim_cache=Path(env["NEWSMAP_NOMINATIM_CACHE"]) if env.get("NEWSMAP_NOMINATIM_CACHE") else None,
            cache_dir=cache_dir,
            max_csv_mb=_positive("NEWSMAP_MAX_CSV_MB", raw["NEWSMAP_MAX_CSV_MB"]),
            max_article_kb=_positive("NEWSMAP_MAX_ARTICLE_KB", raw["NEWSMAP_MAX_ARTICLE_KB"]),
            max_places=int(_positive("NEWSMAP_MAX_PLACES", raw["NEWSMAP_MAX_PLACES"])),
            max_mentions=int(_positive("NEWSMAP_MAX_MENTIONS", raw["NEWSMAP_MAX_MENTIONS"])),
            recheck_seconds=float(raw["NEWSMAP_RECHECK_SECONDS"]),
        )
