"""newsmap installs as a package: a wheel with its templates, static files and gazetteer, and a
`newsmap` command that builds and serves from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from newsmap.serve.assets import minified

from .conftest import ROOT, SEED_SLUG, copy_article
from .liveserver import free_port, wait_for_health


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from this checkout and installed (without its dependencies, which this
    virtualenv has) into a folder of its own: the repository is not on its path."""
    folder = tmp_path_factory.mktemp("installed")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(folder / "dist")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheel = next((folder / "dist").glob("newsmap-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "newsmap/templates/index.html",
        "newsmap/static/newsmap.js",
        "newsmap/data/gazetteer.csv",
        "newsmap/build/lexicon/common_words.txt",
        "newsmap/serve/__init__.py",
        "newsmap/build/__init__.py",
    ):
        assert expected in names, expected
    target = folder / "site"
    done = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return target


def run_installed(target: Path, cwd: Path, *args: str, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(target)}  # the GeoNames index: the user's cache, as for any build
    return subprocess.run([str(target / "bin" / "newsmap"), *args], cwd=cwd, env=env, **kwargs)


def test_installed_newsmap_builds_validates_and_serves_from_another_folder(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    copy_article(SEED_SLUG, elsewhere / "seeds")
    result = run_installed(installed, tmp_path, "build", "--seeds", "elsewhere/seeds", "--data", "elsewhere/data",
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{SEED_SLUG}: 18 places" in result.stdout
    checked = run_installed(installed, elsewhere, "validate", capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and "valid, 18 places" in checked.stdout, checked.stderr

    port = free_port()
    server = subprocess.Popen(
        [str(installed / "bin" / "newsmap"), "serve", "--port", str(port)], cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(installed)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/articles/{SEED_SLUG}", timeout=10) as page:
            html = page.read().decode()
        assert "Kant Air Base" in html and 'src="/static/newsmap.js"' in html
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/newsmap.js", timeout=10) as script:
            source = (installed / "newsmap" / "static" / "newsmap.js").read_bytes()
            assert script.read() == minified("newsmap.js", source) and len(minified("newsmap.js", source)) < len(source)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
    assert str(ROOT) not in (installed / "newsmap" / "settings.py").read_text()


def test_installed_command_names_its_subcommands(installed, tmp_path):
    result = run_installed(installed, tmp_path, "--help", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("build", "validate", "serve", "run"):
        assert f"  {command} " in result.stdout
