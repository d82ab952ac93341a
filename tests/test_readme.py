"""The README's shell examples, run as a reader would type them, against a real server.

A reader copies the README's commands into a shell; when one is wrong (an ETag that keeps the
header's CR, a command the install does not make), they are the first to know. So every fenced
`sh`, `bash` or `console` block of README.md is cut into commands (a line with its `\\`
continuations; in a `console` block, the lines after `$ `), and every command is either in RUN,
run here with what it must show, or in NOT_RUN with the reason it cannot run in a test. A command
in neither fails `test_every_example_is_run_or_listed`, so a new example cannot be forgotten; an
entry whose command left the README fails it too, so the tables follow the README.

What a reader has, and the test gives the commands:

- a folder holding a library: a copy of the `built` fixture (`seeds/`, `data/newsmap.db`), with
  no `NEWSMAP_*` variable set, so every command works on `./seeds`, `./data` and
  `./data/newsmap.db` as the README says; each block starts there, in one bash (`set -e`), in the
  README's order;
- that library served by `newsmap run` (tests/liveserver.py, on a free port);
- the virtualenv's `bin` first on PATH, as after `. .venv/bin/activate` (so `newsmap`, `python`
  and `flask` are this checkout's), and the checkout on PYTHONPATH, as in the checkout, where
  `flask --app app` finds app.py;
- SUBSTITUTIONS, the reader's own values for the README's: the server's address, the
  virtualenv, the id of the token to remove;
- the variables the examples use: TOKEN, an editor's API token made as the README says (`newsmap
  user add NAME --password-stdin`, `TOKEN=$(newsmap token add NAME)`), and PASSWORD;
- the files the examples name (FILES): story.html, my-article.txt, articles.jsonl;
- a `.curlrc` (CURL_HOME) with `--fail-with-body`, so an answer of 400 or more fails the command
  and shows its body (curl alone exits 0 on a 400), and `--noproxy *`;
- what a reader types at a prompt (Run.typed), as stdin: the shell has no terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT, SEED_SLUG
from .liveserver import LiveServer, site_env

README = ROOT / "README.md"
SHELLS = ("sh", "bash", "shell", "console")
BIN = Path(sys.executable).parent  # this virtualenv's bin: `make test` runs .venv/bin/pytest
PASSWORD = "correct horse battery"
MARK = "\x1e"  # ends each command's output on stdout and stderr, with the command's number


@dataclass(frozen=True)
class Command:
    """One command of a README block: where it is, the text a shell runs, and its key in the tables."""

    line: int  # README line where it starts
    block: int  # README line of its block's opening fence
    code: str  # its lines joined as bash joins `\\`-continued lines, trailing comment dropped
    key: str  # `code` with runs of spaces made one: what RUN and NOT_RUN name


def strip_comment(line: str) -> str:
    """The line without its trailing `# comment` (a `#` outside quotes, at the start or after a space)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def readme_blocks(text: str) -> list[list[Command]]:
    """The commands of every fenced shell block of a README, block by block."""
    blocks: list[list[Command]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent, language, start = fence[1], fence[2], i + 1
        body: list[tuple[int, str]] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append((i + 1, lines[i].removeprefix(indent)))
            i += 1
        i += 1
        if language in SHELLS:
            blocks.append(_commands(body, start, console=language == "console"))
    return blocks


def _commands(body: list[tuple[int, str]], block: int, console: bool) -> list[Command]:
    commands: list[Command] = []
    pending: list[str] = []
    first = 0
    for number, raw in body:
        if not pending:
            if console and not raw.startswith("$ "):
                continue  # a console block's output
            raw = raw.removeprefix("$ ") if console else raw
            if not strip_comment(raw).strip():
                continue  # blank or a comment alone
            first = number
        line = strip_comment(raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        code = " ".join([*pending, line]).strip()
        pending = []
        commands.append(Command(first, block, code, re.sub(r"\s+", " ", code)))
    return commands


def examples() -> list[list[Command]]:
    return readme_blocks(README.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- what a reader has


# The README's values, and the reader's: (README text, what the test puts there).
SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("http://127.0.0.1:5000", "{url}"),  # where the server listens: a free port here
    (".venv/bin/", "{bin}/"),  # the virtualenv make made: the one running these tests
    # the id a reader reads from `newsmap token list`: alice's token (the block made one)
    ("/path/to/", "{folder}/"),  # where the reader keeps the article they map: FILES are put there
    ("newsmap token remove ID", "newsmap token remove $(newsmap token list --user alice | cut -f1)"),
)

# The files the examples name, as a reader would have them: (name in the folder, fixture).
FILES: dict[str, Path] = {
    "story.html": FIXTURES / "ingest" / "article.html",  # "Ferry service returns to Aktau"
    "my-article.txt": FIXTURES / f"{SEED_SLUG}.txt",
}
ARTICLES_JSONL = [
    {"id": "tashkent", "text": "Officials met in Tashkent, Uzbekistan, on Monday."},
    {"id": "kant", "text": "Russian aircraft are based at Kant air base, east of Bishkek."},
]


@dataclass
class Reader:
    """The folder, server and shell the examples run in."""

    folder: Path
    server: LiveServer
    env: dict[str, str]

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.server.url + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get_json(self, path: str) -> object:
        status, body = self.get(path)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)


def _shell_env(folder: Path) -> dict[str, str]:
    """os.environ without any newsmap setting but the cache folder (the GeoNames index is built once
    per user), with the virtualenv first on PATH and the checkout on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMAP_") or k == "NEWSMAP_CACHE_DIR"}
    env.pop("PYTHONPATH", None)
    curl_home = folder.parent / "curl-home"
    curl_home.mkdir(exist_ok=True)
    (curl_home / ".curlrc").write_text("--fail-with-body\n--noproxy *\n", encoding="utf-8")
    return {
        **env,
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "CURL_HOME": str(curl_home),
        "PASSWORD": PASSWORD,
    }


@pytest.fixture(scope="module")
def reader(built: Path, tmp_path_factory) -> Iterator[Reader]:
    """A copy of the built library with its files, an editor and token made by the CLI, and a server on it."""
    if shutil.which("curl") is None:
        pytest.fail("the README's examples need curl (apt-get install curl; .ci/run installs it)")
    if not (BIN / "newsmap").exists():
        pytest.fail(f"{BIN / 'newsmap'} is missing: `make test` installs it (pip install --no-deps -e .)")
    folder = tmp_path_factory.mktemp("reader") / "library"
    shutil.copytree(built / "seeds", folder / "seeds")
    shutil.copytree(built / "data", folder / "data")
    for name, source in FILES.items():
        shutil.copy(source, folder / name)
    (folder / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES_JSONL), encoding="utf-8")
    env = _shell_env(folder)

    def newsmap(*args: str, typed: str = "") -> str:
        done = subprocess.run([str(BIN / "newsmap"), *args], cwd=folder, env=env, input=typed,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    newsmap("user", "add", "reader", "--password-stdin", typed=PASSWORD + "\n")
    token = newsmap("token", "add", "reader", "--label", "readme").strip()
    # NEWSMAP_GEOPARSE_TIMEOUT: the examples' adds share 2 cores with other tests; the budget is not what is tested.
    server = LiveServer({**site_env(folder), "NEWSMAP_GEOPARSE_TIMEOUT": "180"})
    try:
        yield Reader(folder, server, {**env, "TOKEN": token})
    finally:
        server.stop()


# --------------------------------------------------------------------------- the tables


@dataclass(frozen=True)
class Run:
    """How one README command runs here: what the reader types, what its stdout must hold, what must then be true."""

    shows: tuple[str, ...] = ()  # text its stdout holds
    typed: str = ""  # what the reader types at its prompt
    then: Callable[[Reader], None] | None = None  # a check on the server or the folder afterwards
    known_bug: str = ""  # fails for a reason filed elsewhere: the test xfails, and fails once it passes


def _gone(slug: str) -> Callable[[Reader], None]:
    def check(reader: Reader) -> None:
        assert reader.get(f"/api/articles/{slug}")[0] == 404

    return check


def _gone_collection(reader: Reader) -> None:
    assert reader.get("/api/collections/russia-in-central-asia")[0] == 404


def _osh_moved(reader: Reader) -> None:
    place = reader.get_json(f"/api/articles/{SEED_SLUG}/places/osh")
    assert isinstance(place, dict) and (place["lat"], place["lon"]) == (40.53, 72.8), place
    assert "city centre, not the airport" in place["source"]


def _file_holds(path: str, *texts: str) -> Callable[[Reader], None]:
    def check(reader: Reader) -> None:
        content = (reader.folder / path).read_text(encoding="utf-8")
        for text in texts:
            assert text in content, (path, text)

    return check


def _geoparsed(reader: Reader) -> None:
    lines = (reader.folder / "places.jsonl").read_text(encoding="utf-8").splitlines()
    results = [json.loads(line) for line in lines]
    assert [r["id"] for r in results] == [a["id"] for a in ARTICLES_JSONL]
    assert "Tashkent" in {t["text"] for t in results[0]["toponyms"]}


def _editors(reader: Reader) -> None:
    users = subprocess.run([str(BIN / "newsmap"), "user", "list"], cwd=reader.folder, env=reader.env,
                           capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert [line.split("\t")[0] for line in users.splitlines()] == ["alice", "reader"]  # bob removed
    assert "\t0 tokens" in users.splitlines()[0]  # alice's token removed


POST_JSON = (
    'curl -X POST http://127.0.0.1:5000/api/articles -H "Authorization: Bearer $TOKEN" '
    """-H 'Content-Type: application/json' -d '{"title": "Talks in Tashkent", "text": "Officials met in Tashkent..."}'"""
)
PATCH = (
    "curl -X PATCH http://127.0.0.1:5000/api/articles/kyrgyzstan-russian-bases-2019/places/osh "
    """-H "Authorization: Bearer $TOKEN" -H "If-Match: $ETAG" -H 'Content-Type: application/json' """
    """-d '{"lat": 40.53, "lon": 72.80, "note": "city centre, not the airport"}'"""
)

COLLECTION = "http://127.0.0.1:5000/api/collections/russia-in-central-asia"
COLLECTION_ETAG = f"ETAG=$(curl -s -o /dev/null -w '%header{{etag}}' {COLLECTION})"


RUN: dict[str, Run] = {
    # Quick start
    ".venv/bin/newsmap --help": Run(shows=("build", "serve", "user", "token")),
    # Adding an article: the API
    POST_JSON: Run(shows=('"slug":"talks-in-tashkent"', '"id":"tashkent"')),
    'curl -X POST http://127.0.0.1:5000/api/articles -H "Authorization: Bearer $TOKEN" -F file=@story.html': Run(
        shows=('"slug":"ferry-service-returns-to-aktau"', '"id":"aktau"')
    ),
    'curl -X DELETE http://127.0.0.1:5000/api/articles/talks-in-tashkent -H "Authorization: Bearer $TOKEN"': Run(
        then=_gone("talks-in-tashkent")
    ),
    # Editors
    "newsmap user add alice": Run(typed=f"{PASSWORD}\n{PASSWORD}\n", shows=("added editor alice",)),
    """printf '%s\\n' "$PASSWORD" | newsmap user add bob --password-stdin""": Run(shows=("added editor bob",)),
    "TOKEN=$(newsmap token add alice --label scripts)": Run(),
    "newsmap user list; newsmap token list; newsmap token remove ID; newsmap user remove bob": Run(
        shows=("alice\t", "bob\t", "\talice\tscripts\t", "removed token", "removed editor bob"), then=_editors
    ),
    # Correcting the map: the API
    "ETAG=$(curl -s -o /dev/null -w '%header{etag}' "
    "http://127.0.0.1:5000/api/articles/kyrgyzstan-russian-bases-2019/places/osh)": Run(),
    PATCH: Run(shows=("city centre, not the airport",), then=_osh_moved),
    # Collections: the API
    'curl -X POST http://127.0.0.1:5000/api/collections -H "Authorization: Bearer $TOKEN" '
    """-H 'Content-Type: application/json' -d '{"title": "Russia in Central Asia", "articles": """
    """["kyrgyzstan-russian-bases-2019"]}'""": Run(shows=('"slug": "russia-in-central-asia"',)),
    COLLECTION_ETAG: Run(),
    f'curl -X PATCH {COLLECTION} -H "Authorization: Bearer $TOKEN" -H "If-Match: $ETAG" '
    """-H 'Content-Type: application/json' -d '{"description": "Russian bases, 2019 to now."}'""": Run(
        shows=('"description": "Russian bases, 2019 to now."', f'"{SEED_SLUG}"')
    ),
    "curl -O http://127.0.0.1:5000/collections/russia-in-central-asia/locations.csv": Run(
        then=_file_holds("locations.csv", "kant-air-base,Kant Air Base")
    ),
    f'curl -X DELETE {COLLECTION} -H "Authorization: Bearer $TOKEN" -H "If-Match: $ETAG"': Run(then=_gone_collection),
    # Install as a package (pip install . is not run: see NOT_RUN)
    "mkdir mymaps && cd mymaps && mkdir seeds": Run(),
    "cp /path/to/my-article.txt seeds/": Run(),
    "newsmap build": Run(
        shows=("my-article: 18 places",), then=_file_holds("mymaps/data/locations.csv", "my-article,")
    ),
    "newsmap validate": Run(shows=("valid, 18 places",)),
    # What the app serves
    "curl -O http://127.0.0.1:5000/articles/kyrgyzstan-russian-bases-2019/locations.csv": Run(
        then=_file_holds("locations.csv", "kant-air-base")
    ),
    "curl http://127.0.0.1:5000/api/articles/kyrgyzstan-russian-bases-2019/places/kant-air-base": Run(
        shows=('"kant-air-base"', '"Kant Air Base"')
    ),
    "curl http://127.0.0.1:5000/data/locations.geojson | python -m json.tool | head": Run(
        shows=('"type": "FeatureCollection"',)
    ),
    # Publishing without a server
    "newsmap export site/": Run(then=_file_holds(f"site/articles/{SEED_SLUG}/index.html", "Kant")),
    "newsmap export site/ --base-url https://maps.example.org/ --tiles offline": Run(
        then=_file_holds("site/feed.atom", "https://maps.example.org/articles/")
    ),
    # Building the dataset
    "flask --app app build-data": Run(shows=(f"{SEED_SLUG}: unchanged",)),
    "flask --app app validate-data": Run(shows=("valid, ",)),
    # Many articles at once
    "newsmap geoparse articles.jsonl --out places.jsonl": Run(then=_geoparsed),
    "newsmap geoparse articles.jsonl --workers 4 > places.jsonl": Run(then=_geoparsed),
}

NOT_RUN: dict[str, str] = {
    "make run": "makes .venv from PyPI and serves until stopped; its parts are run here "
    "(.venv/bin/newsmap, newsmap build) and .ci/run installs the wheel into a fresh virtualenv",
    "make test": "runs this very suite (CI's command)",
    "pip install datasette && datasette data/newsmap.db": "downloads datasette, then serves until stopped",
    "pip install .": "downloads the dependencies from PyPI: .ci/run installs the wheel with them into a "
    "fresh virtualenv, tests/test_packaging.py without them",
    "newsmap serve": "serves until stopped: tests/test_packaging.py and .ci/run start an installed `newsmap serve`",
    "newsmap run": "serves until stopped: it is the server these examples run against (tests/liveserver.py)",
    "python -m http.server -d site 8000": "serves until stopped, on a fixed port",
    "newsmap build [--seeds DIR] [--data DIR] [--db FILE] [--force] [--geocoder offline|nominatim] "
    "[--gazetteer FILE]": "a synopsis of the options, not a command",
    "newsmap validate [--data DIR] [--seeds DIR]": "a synopsis of the options, not a command",
    "newsmap geoparse articles.jsonl --scheduler tcp://10.0.0.5:8786": "needs a Dask scheduler at that address",
}


# --------------------------------------------------------------------------- the tests


def test_every_example_is_run_or_listed():
    commands = [command for block in examples() for command in block]
    keys = [command.key for command in commands]
    unknown = [f"README.md:{c.line}: {c.key}" for c in commands if c.key not in RUN and c.key not in NOT_RUN]
    assert unknown == [], "add each to RUN (how to run it, what it shows) or NOT_RUN (why it cannot run)"
    assert set(RUN) & set(NOT_RUN) == set()
    assert sorted(set(RUN) - set(keys)) == [] and sorted(set(NOT_RUN) - set(keys)) == [], "gone from the README"
    assert len(RUN) >= 20  # the parser found the blocks (a broken fence would leave most unseen)


def test_the_parser_reads_continuations_comments_and_console_blocks():
    text = (
        'intro\n  ```sh\n  curl -X POST http://x/ \\\n       -d \'{"a": "# not a comment"}\'   # a comment\n'
        "  # alone\n\n  ```\n```console\n$ newsmap validate\ndata: valid\n```\n```nginx\nserver {}\n```\n"
    )
    blocks = readme_blocks(text)
    assert [[(c.line, c.block, c.key) for c in block] for block in blocks] == [
        [(3, 2, """curl -X POST http://x/ -d '{"a": "# not a comment"}'""")],
        [(9, 8, "newsmap validate")],
    ]


def _script(commands: list[Command], reader: Reader) -> str:
    """One bash script for a block: each command that runs, then its number on stdout and stderr."""
    values = {"url": reader.server.url, "bin": str(BIN), "folder": str(reader.folder)}
    lines = ["set -e", f"cd {reader.folder}"]
    for number, command in enumerate(commands):
        if command.key in NOT_RUN:
            continue
        code = command.code
        for readme, ours in SUBSTITUTIONS:
            code = code.replace(readme, ours.format(**values))
        typed = RUN[command.key].typed
        lines.append(f"{{ {code}\n}} <<'NEWSMAP_TYPED'\n{typed}NEWSMAP_TYPED" if typed else code)
        lines.append(f"printf '\\036%d\\n' {number}; printf '\\036%d\\n' {number} >&2")
    return "\n".join(lines) + "\n"


def _outputs(stream: str) -> tuple[dict[int, str], str]:
    """Each finished command's output by number, and what came after the last mark (a failed command's)."""
    parts = re.split(MARK + r"(\d+)\n", stream)
    return {int(parts[i + 1]): parts[i] for i in range(0, len(parts) - 1, 2)}, parts[-1]


RUNNABLE = [block for block in examples() if any(c.key not in NOT_RUN for c in block)]


@pytest.mark.processes
@pytest.mark.parametrize("block", RUNNABLE, ids=[f"README.md:{block[0].block}" for block in RUNNABLE])
def test_readme_example_runs(block: list[Command], reader: Reader):
    """The block's commands run in order in one shell; each exits 0, shows what RUN says, leaves what RUN checks."""
    for command in block:
        if command.key not in RUN and command.key not in NOT_RUN:
            pytest.fail(f"README.md:{command.line} is neither run nor listed: {command.key}")
    done = subprocess.run(
        ["bash", "-c", _script(block, reader)], cwd=reader.folder, env=reader.env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=600, start_new_session=True,  # no terminal: prompts read stdin
    )  # fmt: skip
    stdout, stdout_rest = _outputs(done.stdout)
    stderr, stderr_rest = _outputs(done.stderr)
    for number, command in enumerate(block):
        if command.key in NOT_RUN:
            continue
        where = f"README.md:{command.line}: {command.key}"
        bug = RUN[command.key].known_bug
        if bug and number not in stdout:
            pytest.xfail(f"{where}: {bug}")
        if bug:
            pytest.fail(f"{where} runs now: its known bug is fixed, take known_bug out of RUN ({bug})")
        if number not in stdout:
            pytest.fail(
                f"{where}\nexited {done.returncode}\nstdout: {stdout_rest[-3000:]}\nstderr: {stderr_rest[-3000:]}"
            )
        for text in RUN[command.key].shows:
            assert text in stdout[number], (
                f"{where}\ndoes not show {text!r}:\n{stdout[number][-3000:]}{stderr[number][-2000:]}"
            )
        check = RUN[command.key].then
        if check is not None:
            check(reader)
    assert done.returncode == 0, done.stderr
