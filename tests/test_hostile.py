"""Hostile input: invisible characters, odd file names and metadata, oversized articles and
sentences, a broken seeds folder, failing disks. Each case once broke the build or the server.

Cost in time is measured in bench/hostile.py, never here; these tests check outcomes.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import subprocess
import sys
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmap import atomic
from newsmap.adding import Limits
from newsmap.article import ArticleError, article_from_text, article_slug
from newsmap.dataset import ID_PATTERN, quote_core, read_table, write_dataset
from newsmap.geoparser import geoparse_article, geoparse_within_limits, parse
from newsmap.library.pipeline import build
from newsmap.store import Store

from .conftest import ROOT, SEED_SLUG, app_for, copy_article


def names_in(text: str, gazetteer) -> dict[str, str]:
    """{mention text: country} of what the geoparser finds in `text`."""
    article = article_from_text("t", text)
    locations, mentions = geoparse_article(article, gazetteer, None)
    country = {row["id"]: row["country"] for row in locations}
    for row in mentions:
        assert text[row["start"] : row["end"]] == row["text"]  # offsets point into the original text
    return {row["text"]: country[row["place_id"]] for row in mentions}


@pytest.mark.parametrize(
    ("written", "country"),
    [
        ("Mos\u200bcow", "RU"),  # zero-width space
        ("Bish\u200dkek", "KG"),  # zero-width joiner
        ("Bish\ufeffkek", "KG"),  # byte-order mark
        ("O\u200csh", "KG"),  # zero-width non-joiner
        ("Kyrgyz\u2060stan", "KG"),  # word joiner
        ("Tash\u00adkent", "UZ"),  # soft hyphen
    ],
)
def test_invisible_characters_do_not_hide_a_place(gazetteer, written, country):
    text = f"Officials met in {written} on Monday, far from Kyrgyzstan and Uzbekistan.\n"
    found = names_in(text, gazetteer)
    assert found.get(written) == country, found


def test_an_invisible_joiner_inside_a_facility_name_keeps_the_facility(gazetteer):
    text = "Russian jets flew from Kant\u200d Air Base in Kyrgyzstan on Monday.\n"
    article = article_from_text("t", text)
    locations, mentions = geoparse_article(article, gazetteer, None)
    base = next(row for row in locations if row["id"] == "kant-air-base")
    assert base["precision"] == "facility"
    assert quote_core(base["quote"]) in text
    assert any(m["text"] == "Kant\u200d Air Base" for m in mentions)


@pytest.mark.parametrize("name", ["zzz?q=1#frag", "zzzz%2e%2e", ".", "..", "Łódź notes", "a b"])
def test_odd_seed_names_give_safe_slugs_and_working_pages(tmp_path, name):
    seeds = tmp_path / "seeds"
    copy_article(SEED_SLUG, seeds)
    (seeds / f"{name}.txt").write_text("Troops arrived in Bishkek, Kyrgyzstan.\n", encoding="utf-8")
    slug = article_slug(seeds / f"{name}.txt")
    assert ID_PATTERN.fullmatch(slug) and slug not in (".", "..")
    build(seeds, tmp_path / "data", echo=lambda _: None)
    client = app_for(tmp_path).test_client()
    page = client.get(f"/articles/{slug}")
    assert page.status_code == 200 and "Bishkek" in page.get_data(as_text=True)
    assert client.get(f"/articles/{SEED_SLUG}").status_code == 200


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"title": {"a": 1}}, "metadata field 'title' must be text, not an object"),
        ({"published": ["2019", "03"]}, "metadata field 'published' must be text, not a list"),
        ({"url": 7}, "metadata field 'url' must be text, not a number"),
    ],
)
def test_metadata_that_is_not_text_is_refused_by_name(workdir, meta, message):
    (workdir / "seeds" / "other.txt").write_text("Troops arrived in Bishkek.\n", encoding="utf-8")
    (workdir / "seeds" / "other.json").write_text(json.dumps(meta), encoding="utf-8")
    summary = build(workdir / "seeds", workdir / "data", echo=lambda _: None)
    assert len(summary.skipped) == 1 and message in summary.skipped[0] and "other.json" in summary.skipped[0]
    assert [r.article.slug for r in summary.articles] == [SEED_SLUG]  # the others are built


def test_a_rejected_seed_keeps_its_previous_version_and_the_others(workdir):
    seeds, data = workdir / "seeds", workdir / "data"
    copy_article("tajikistan-border-2021", seeds)
    build(seeds, data, echo=lambda _: None)
    before = read_table(data / "locations.csv")
    (seeds / "tajikistan-border-2021.txt").write_bytes(b"half-copied \xff\xfe")  # not UTF-8 any more
    summary = build(seeds, data, echo=lambda _: None)
    assert summary.skipped == [
        f"skipped {seeds / 'tajikistan-border-2021.txt'}: not UTF-8 text (byte 0xff at offset 12); its previous version is kept"
    ]
    assert read_table(data / "locations.csv") == before
    store = Store.open(data / "newsmap.db")
    assert {info.slug for info in store.infos()} == {SEED_SLUG, "tajikistan-border-2021"}
    assert "DUSHANBE" in store.article("tajikistan-border-2021").text  # the previous text, not the broken one


def test_cli_reports_each_skipped_seed_on_stderr_and_exits_1(workdir):
    (workdir / "seeds" / "broken.txt").write_bytes(b"\x00\x01binary")
    result = subprocess.run(
        [sys.executable, "-m", "newsmap", "build", "--seeds", "seeds", "--data", "data"],
        cwd=workdir, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["error: skipped seeds/broken.txt: holds NUL bytes; is it a binary file?"]
    assert f"{SEED_SLUG}: unchanged" in result.stdout  # the good seed stays, built before (skipped by hash)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (Limits(article_bytes=1000), "more than the 1 KB allowed (NEWSMAP_MAX_ARTICLE_KB)"),
        (Limits(places=5), "places, more than the 5 allowed (NEWSMAP_MAX_PLACES)"),
        (Limits(mentions=20), "mentions, more than the 20 allowed (NEWSMAP_MAX_MENTIONS)"),
    ],
)
def test_limits_refuse_an_article_with_one_line_naming_it_and_the_limit(workdir, limits, message):
    copy_article("tajikistan-border-2021", workdir / "seeds")
    summary = build(workdir / "seeds", workdir / "data", limits=limits, force=True, echo=lambda _: None)
    assert summary.skipped and all(message in line and "\n" not in line for line in summary.skipped)
    assert any(SEED_SLUG in line for line in summary.skipped)


def test_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("NEWSMAP_MAX_ARTICLE_KB", "2")
    monkeypatch.setenv("NEWSMAP_MAX_PLACES", "3")
    monkeypatch.setenv("NEWSMAP_MAX_MENTIONS", "4")
    from newsmap.settings import Settings

    assert Limits.from_settings(Settings.from_env()) == Limits(2000, 3, 4)


def test_one_huge_sentence_naming_thousands_of_places_stays_small(gazetteer, tmp_path):
    names = [row[0] for row in gazetteer.db.execute(
        "select name from places where population > 50000 and name not like '% %' order by population desc limit 3000"
    )]  # fmt: skip
    text = "Reports came from " + ", ".join(names) + ".\n"
    article = article_from_text("big", text)
    locations, mentions = geoparse_article(article, gazetteer, None)
    assert len(locations) > 1000
    sizes = write_dataset(tmp_path, locations, mentions)
    total = sizes["locations.csv"] + sizes["mentions.csv"]
    # A place costs a row (a quote of at most 400 characters and its source) for a name of a few
    # letters: about 60 times the text, never the ~1,000 times of a whole sentence copied per place.
    assert total < 70 * len(text.encode()), (total, len(text))
    assert max(len(row["quote"]) for row in locations) <= 402


# --------------------------------------------------------------------------- place-dense sentences (issue 18)

DENSE = "Bishkek Osh Kant Moscow "  # the text repeats it as one sentence up to the article limit


def mentions_of(text: str, gazetteer) -> Counter[tuple[str, str, str, str]]:
    """How often each (mention, role, place id, country) occurs in what the geoparser finds in `text`."""
    locations, mentions = geoparse_article(article_from_text("t", text), gazetteer, None)
    country = {row["id"]: row["country"] for row in locations}
    return Counter((row["text"], row["role"], row["place_id"], country[row["place_id"]]) for row in mentions)


def test_the_place_dense_article_is_refused_in_one_line_and_changes_nothing(workdir):
    seeds, data = workdir / "seeds", workdir / "data"
    before = {name: read_table(data / name) for name in ("locations.csv", "mentions.csv")}
    (seeds / "dense.txt").write_text((DENSE * 20000)[:480_000], encoding="utf-8")  # under the 500 KB limit
    summary = build(seeds, data, limits=Limits(), echo=lambda _: None)
    assert summary.skipped == ["skipped dense: 40000 mentions, more than the 10000 allowed (NEWSMAP_MAX_MENTIONS)"]
    assert {name: read_table(data / name) for name in before} == before
    assert {info.slug for info in Store.open(data / "newsmap.db").infos()} == {SEED_SLUG}


def test_the_limits_refuse_before_any_place_is_described(gazetteer, monkeypatch):
    described: list[object] = []
    monkeypatch.setattr(parse, "place_rows", lambda *args: described.append(args) or ([], []))
    article = article_from_text("dense", DENSE * 100 + "\n")
    with pytest.raises(ArticleError, match=r"^dense: 200 mentions, more than the 50 allowed \(NEWSMAP_MAX_MENTIONS\)$"):
        geoparse_within_limits(article, gazetteer, None, Limits(mentions=50))
    with pytest.raises(ArticleError, match=r"^dense: 2 places, more than the 1 allowed \(NEWSMAP_MAX_PLACES\)$"):
        geoparse_within_limits(article, gazetteer, None, Limits(places=1))
    assert not described  # refused on the resolver's counts, before describing, quoting or writing


def test_a_one_sentence_list_of_places_gives_what_separate_sentences_give(gazetteer):
    names = ["Bishkek", "Osh", "Moscow", "Tashkent", "Almaty", "Dushanbe", "Kabul", "Tehran", "Baku", "Tbilisi"] * 300
    one = "Reports came from " + ", ".join(names) + ".\n"
    many = " ".join(f"Reports came from {name}." for name in names) + "\n"
    assert len(article_from_text("t", one).sentences) == 1 and len(article_from_text("t", many).sentences) == 3000
    found = mentions_of(one, gazetteer)
    assert found == mentions_of(many, gazetteer)
    assert len(found) == 10 and set(found.values()) == {300}  # every name, every time: no cap on a sentence


def test_a_names_verdict_does_not_depend_on_how_long_its_run_is(gazetteer):
    # In "Bishkek Osh Kant Moscow ..." the rules see each name's capitalised neighbours: the same
    # four words decide the same way whether the run is 40 words long or 8,000.
    short, long = mentions_of(DENSE * 10 + "\n", gazetteer), mentions_of(DENSE * 2000 + "\n", gazetteer)
    assert set(short) == set(long) and short
    assert all(long[key] == 200 * short[key] for key in short)


def calls(work: Callable[[], object]) -> int:
    """How many Python and built-in function calls `work` makes: a measure of work that no timing noise moves."""
    profile = cProfile.Profile()
    profile.runcall(work)
    return pstats.Stats(profile).total_calls


@pytest.mark.parametrize(
    "unit",
    [
        DENSE,  # one run of capitalised place names: each name's neighbours are the whole run
        "Zorblax Quintor Vexmar Plimbo ",  # unknown capitalised words: a person's name, learnt word by word
        "Bishkek City Council Moscow State University ",  # organisations: a place name, then an organisation word
        "the military base in Naryn and Russia, ",  # facility phrases, and countries that might run them
        "Santa Maria, Santa Cruz, San Pedro and San Antonio, ",  # names with a hundred candidates each
        "Almaty, Bishkek, Osh, Naryn, Talas, Karakol, Tokmok, Jalal-Abad, Batken, Kant, ",  # "Town, Town" qualifiers
    ],
)
def test_geoparsing_one_long_sentence_costs_work_linear_in_its_length(gazetteer, unit):
    """Four times the sentence, about four times the calls (a quadratic step made it sixteen)."""

    def geoparse_times(times: int) -> Callable[[], object]:
        article = article_from_text("t", "Reports came from " + unit * times + "\n")
        return lambda: geoparse_article(article, gazetteer, None)

    geoparse_times(100)()  # the gazetteer's caches warm, so both counts are of the same work
    small, large = calls(geoparse_times(100)), calls(geoparse_times(400))
    assert large < 4.5 * small, (small, large)


def test_geoparsing_a_sentence_of_distinct_places_costs_work_linear_in_their_number(gazetteer):
    """Each name's context is every other name's votes: summed anew per name, that was quadratic."""
    names = [row[0] for row in gazetteer.db.execute(
        "select name from places where population > 50000 and name not like '% %' order by population desc limit 1200"
    )]  # fmt: skip

    def geoparse_first(count: int) -> Callable[[], object]:
        article = article_from_text("t", "Reports came from " + ", ".join(names[:count]) + ".\n")
        return lambda: geoparse_article(article, gazetteer, None)

    geoparse_first(len(names))()  # every name looked up once: both counts are of the same work
    small, large = calls(geoparse_first(300)), calls(geoparse_first(1200))
    assert large < 4.5 * small, (small, large)


WORDS = st.sampled_from(
    ["Moscow", "Bishkek", "Osh", "Kant", "Kyrgyzstan", "Russia", "talks", "in", "the", "air", "base", "near",
     "Tashkent", "said", "officials", "Paris", "London", "and", "of", "\u200b", "Mailuu-Suu", "Sochi"]
)  # fmt: skip
SEPARATORS = st.sampled_from([" ", " ", " ", ", ", ". ", "\n", "\n\n", "-", " (", ") "])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=4000))
def test_output_is_bounded_by_the_input_and_offsets_hold(gazetteer, tmp_path_factory, pieces):
    """For any text, the dataset is at most a constant times the article, and every offset holds."""
    text = "".join(word + separator for word, separator in pieces)
    article = article_from_text("any", text)
    locations, mentions = geoparse_article(article, gazetteer, None)
    folder = tmp_path_factory.mktemp("bounded")
    sizes = write_dataset(folder, locations, mentions)
    assert sizes["locations.csv"] + sizes["mentions.csv"] <= 2_000 + 60 * len(text.encode())
    for row in mentions:
        assert text[row["start"] : row["end"]] == row["text"]
        assert row["sentence_start"] <= row["start"] < row["end"] <= row["sentence_end"]
    for row in locations:
        assert quote_core(row["quote"]) in text and len(row["quote"]) <= 402


def test_the_server_never_reads_the_seeds_folder(workdir):
    """A bad, huge or half-copied seed changes nothing until a build accepts it."""
    client = app_for(workdir).test_client()
    page = client.get(f"/articles/{SEED_SLUG}").data
    (workdir / "seeds" / "bad.txt").write_bytes(b"\xff\xfe not utf-8")
    (workdir / "seeds" / f"{SEED_SLUG}.txt").write_bytes(b"half")
    with open(workdir / "seeds" / "huge.txt", "wb") as handle:
        handle.truncate(30_000_000)
    assert client.get("/").status_code == 200 and client.get(f"/articles/{SEED_SLUG}").data == page


def test_data_files_are_readable_by_others_under_the_usual_umask(tmp_path):
    script = (
        "import os, sys; os.umask(0o022); sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path; from newsmap.atomic import commit_files;"
        "commit_files(Path(sys.argv[2]), {'a.csv': b'x', 'b.csv': b'y'})"
    )
    subprocess.run([sys.executable, "-c", script, str(ROOT), str(tmp_path)], check=True, timeout=60)
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {"a.csv": 0o644, "b.csv": 0o644}


def test_a_full_disk_leaves_no_temporary_file_and_names_the_folder(workdir, monkeypatch):
    data = workdir / "data"
    csvs = ("locations.csv", "mentions.csv")
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.name in csvs}
    copy_article("tajikistan-border-2021", workdir / "seeds")  # something new to export

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(OSError) as error:
        build(workdir / "seeds", data, echo=lambda _: None)
    assert error.value.filename and error.value.filename.startswith(str(data))
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.name in csvs} == before  # the same exports
    assert not [p.name for p in data.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".commit")]


# --------------------------------------------------------------------------- the production server


@pytest.fixture(scope="module")
def production(built):
    """`newsmap serve` as `make serve` runs it (gunicorn, gevent workers), on the built seed."""
    from .conftest import LiveServer, site_env

    server = LiveServer(site_env(built), gunicorn=True)
    yield server
    server.stop()


def raw_request(port: int, payload: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # the server closes without reading the rest of a refused request
            pass
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", b"431"),
    ],
)
def test_gunicorns_own_error_answers_carry_the_security_headers(production, payload, status):
    reply = raw_request(production.port, payload)
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
    assert lines[0].split(" ")[1].encode() in (status, b"400"), lines[0]
    assert headers["server"] == "newsmap"
    assert (
        headers["x-content-type-options"] == "nosniff"
        and "frame-ancestors 'none'" in headers["content-security-policy"]
    )
    assert "permissions-policy" in headers and headers["cross-origin-resource-policy"] == "same-origin"
    assert b"<script" not in body and b"gunicorn" not in reply.lower()


def test_app_answers_name_no_software(production):
    import urllib.request

    with urllib.request.urlopen(f"{production.url}/api/places", timeout=10) as response:
        assert len(json.loads(response.read())) == 18  # streamed through gunicorn, whole
        assert response.headers["Server"] == "newsmap"
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"  # open data
        assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_slow_clients_do_not_starve_the_server(production):
    """300 connections that send their request header one line at a time hold no thread: normal
    requests are still answered (gthread's 8 threads would all be stuck here)."""
    import socket
    import time
    import urllib.request

    dribblers = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", production.port), timeout=10)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            dribblers.append(sock)
        answered = 0
        for round_ in range(3):
            for sock in dribblers:
                sock.sendall(f"X-Slow-{round_}: 1\r\n".encode())  # still no end of headers
            started = time.monotonic()
            with urllib.request.urlopen(f"{production.url}/healthz", timeout=10) as response:
                answered += response.status == 200
            assert time.monotonic() - started < 5  # a generous bound: stuck servers take the whole timeout
        assert answered == 3
    finally:
        for sock in dribblers:
            sock.close()
