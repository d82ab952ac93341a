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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`flask --app app run` in a real process on a free port, for the browser tests."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(self.port)],
            cwd=ROOT, env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self._wait()

    def _wait(self) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server():
    server = LiveServer()
    yield server
    server.stop()
