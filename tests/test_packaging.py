"""newsmap installs as a package: a wheel with its templates, static files and gazetteer, and a
`newsmap` command that builds and serves from any folder; pyproject.toml lists every dependency
and requirements.txt locks them.

`pip install .` on a fresh machine gets pyproject's ranges, not the pins, so a dependency missing
there works on every developer's machine (requirements.txt installed it) and fails for users; the
lock tests below catch that here, and .ci/run installs the wheel with its dependencies from PyPI
into a fresh virtualenv and serves from it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from newsmap.geoparser.gazetteer import INDEX_PACKAGES
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
        "newsmap/geoparser/lexicon/common_words.txt",
        "newsmap/serve/__init__.py",
        "newsmap/geoparser/__init__.py",
        "newsmap/geoparser/data/installations.csv",
        "newsmap/geoparser/weights.json",
        "newsmap/library/pipeline.py",
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
            static = installed / "newsmap" / "static"  # mapcore.js is sent in front of newsmap.js (site.BUNDLES)
            source = b"\n".join((static / name).read_bytes() for name in ("mapcore.js", "newsmap.js"))
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


# --------------------------------------------------------------------------- dependencies


def project_dependencies() -> list[Requirement]:
    """pyproject.toml's [project] dependencies: what `pip install .` resolves."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def locked() -> dict[str, Requirement]:
    """requirements.txt's pins by canonical name; each line must be `name[extras]==version [; marker]`."""
    pins: dict[str, Requirement] = {}
    for number, line in enumerate((ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"requirements.txt:{number} is no pin: {line}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"requirements.txt:{number} pins {requirement.name} twice"
        pins[name] = requirement
    return pins


def pinned_version(requirement: Requirement) -> str:
    return next(iter(requirement.specifier)).version


def applies(requirement: Requirement, extras: frozenset[str] = frozenset()) -> bool:
    """Whether a requirement holds on this interpreter, for a package asked for with these extras."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras})


def test_every_dependency_is_pinned_within_its_range():
    pins = locked()
    for requirement in project_dependencies():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"pyproject.toml needs {requirement} but requirements.txt does not pin it"
        version = pinned_version(pins[name])
        assert requirement.specifier.contains(version, prereleases=True), f"{name}=={version} is not {requirement}"


def test_the_lock_is_closed_and_installed():
    """Everything the pinned packages need (their installed metadata, markers and extras applied) is
    pinned too, within what they ask, and this virtualenv holds exactly the pins; nothing is pinned
    that nothing needs. So `pip install -r requirements.txt` gives what `pip install .` would, tested."""
    pins = locked()
    todo = [(canonicalize_name(r.name), frozenset(r.extras), r) for r in project_dependencies() if applies(r)]
    needed: dict[str, set[str]] = {}
    problems: list[str] = []
    while todo:
        name, extras, wanted = todo.pop()
        if name in needed and extras <= needed[name]:
            continue
        needed.setdefault(name, set()).update(extras)
        if name not in pins:
            problems.append(f"{wanted} (needed) is not pinned")
            continue
        version = pinned_version(pins[name])
        if not wanted.specifier.contains(version, prereleases=True):
            problems.append(f"{name}=={version} is not {wanted}")
        try:
            installed = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is pinned but not installed here (make test installs requirements-dev.txt)")
            continue
        if installed.version != version:
            problems.append(f"{name} {installed.version} is installed, {version} pinned (make test reinstalls)")
        for line in installed.requires or []:
            requirement = Requirement(line)
            if applies(requirement, extras):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras), requirement))
    unneeded = sorted(name for name, pin in pins.items() if applies(pin) and name not in needed)
    assert problems == [] and unneeded == [], (problems, f"pinned, needed by nothing: {unneeded}")


def third_party_imports() -> dict[str, str]:
    """The top-level modules newsmap's code (newsmap/ and app.py) imports that are neither stdlib nor newsmap,
    each with a file that imports it."""
    found: dict[str, str] = {}
    for path in [ROOT / "app.py", *sorted((ROOT / "newsmap").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for top in (name.split(".")[0] for name in names):
                if top not in sys.stdlib_module_names and top != "newsmap":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_pyproject_names_everything_the_code_imports_and_reads():
    """Each module newsmap imports comes from a distribution pyproject.toml names itself (not one that
    happens to come with another), as do the data packages the gazetteer index reads."""
    declared = {canonicalize_name(r.name) for r in project_dependencies()}
    providers = metadata.packages_distributions()
    missing = []
    for module, where in sorted(third_party_imports().items()):
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        if not distributions & declared:
            missing.append(f"{module} (imported by {where}; from {sorted(distributions) or 'nothing installed'})")
    missing += [f"{package} (read by the gazetteer index)" for package in INDEX_PACKAGES
                if canonicalize_name(package) not in declared]  # fmt: skip
    assert missing == []
    assert {"lxml-html-clean", "trafilatura"} <= declared  # trafilatura's jusText imports lxml.html.clean


def test_build_with_data_keeps_the_database_newsmap_db_names(tmp_path):
    """`newsmap build --data D` writes D's exports, and the database NEWSMAP_DB names when set (the one
    the server reads), else D/newsmap.db."""
    copy_article(SEED_SLUG, tmp_path / "seeds")
    (tmp_path / "elsewhere").mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMAP_") or k == "NEWSMAP_CACHE_DIR"}
    base["PYTHONPATH"] = str(ROOT)

    def build(data: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newsmap", "build", "--seeds", "seeds", "--data", data],
                              cwd=tmp_path, env={**base, **env}, capture_output=True, text=True, timeout=300)  # fmt: skip

    named = build("out", NEWSMAP_DB=str(tmp_path / "elsewhere" / "library.db"))
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "elsewhere" / "library.db").is_file() and not (tmp_path / "out" / "newsmap.db").exists()
    assert f"{SEED_SLUG}," in (tmp_path / "out" / "locations.csv").read_text(encoding="utf-8")
    unset = build("out2")
    assert unset.returncode == 0, unset.stderr
    assert (tmp_path / "out2" / "newsmap.db").is_file() and (tmp_path / "out2" / "locations.csv").is_file()
