"""Shared fixtures: the Flask app, client and CLI runner of Flask's tutorial, plus the pipeline's parts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import create_app
from newsmap.article import Article, load_article
from newsmap.gazetteer import DEFAULT_CURATED, Gazetteer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_SLUG = "kyrgyzstan-russian-bases-2019"


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.open(DEFAULT_CURATED)


@pytest.fixture(scope="session")
def seed() -> Article:
    return load_article(SEEDS / f"{SEED_SLUG}.txt")


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """A copy of the seeds and the committed data, to build and break without touching the repo."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copytree(DATA, tmp_path / "data")
    return tmp_path


@pytest.fixture()
def app(workdir: Path):
    return create_app({"TESTING": True, "DATA_DIR": str(workdir / "data"), "SEEDS_DIR": str(workdir / "seeds")})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()
