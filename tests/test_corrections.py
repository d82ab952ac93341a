"""Corrections: `materialise` replaying editors' changes on an article's geoparsed rows, and the
store's append-only corrections table, on the first article built into a real SQLite file."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from newsmap.article import Article
from newsmap.corrections import (
    BY_HAND,
    Correction,
    CorrectionError,
    Materialised,
    correction_from_record,
    correction_records,
    counting,
    materialise,
    mention_target,
)
from newsmap.store import Store

from .conftest import SEED_SLUG

AT = "2026-03-04T05:06:07+00:00"
Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def base(built: Path) -> tuple[Article, Rows, Rows]:
    """The first article and its geoparsed rows, as the build stored them."""
    store = Store.open(built / "data" / "newsmap.db", create=False)
    try:
        article = store.article(SEED_SLUG)
        assert article is not None
        places, mentions = store.geoparsed(SEED_SLUG)
    finally:
        store.close()
    return article, places, mentions


@pytest.fixture()
def store(workdir: Path):
    opened = Store.open(workdir / "data" / "newsmap.db", create=False)
    yield opened
    opened.close()


def fix(target: str, field: str, new: Any = None, old: Any = None, seq: int = 1, **more: Any) -> Correction:
    """A stored-looking correction: by alice, at AT, its own action unless told."""
    values = {"editor": "alice", "at": AT, "action": seq, "uid": f"u{seq}", **more}
    return Correction(target, field, new=new, old=old, seq=seq, **values)


def apply(base: tuple[Article, Rows, Rows], *corrections: Correction) -> Materialised:
    article, places, mentions = base
    return materialise(article, places, mentions, corrections)


def row(rows: Rows, place_id: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["id"] == place_id), None)


def span_of(article: Article, text: str) -> tuple[int, int]:
    start = article.text.index(text)
    return start, start + len(text)


# --------------------------------------------------------------------------- materialise


def test_without_corrections_the_geoparse_is_the_article(base):
    result = apply(base)
    assert result.places == base[1] and result.mentions == base[2]
    assert result.applied == [] and result.skipped == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Osh city"), ("kind", "garrison town"), ("category", "proposed base"), ("status", "ruled out")],
)
def test_a_text_field_is_changed_and_the_source_says_who_when_and_why(base, field, value):
    before = row(base[1], "osh")
    result = apply(base, fix("place:osh", field, value, before[field], note="  per   the\n ministry "))
    after = row(result.places, "osh")
    assert after[field] == value
    assert after["source"] == f"{before['source']}; corrected by alice on 2026-03-04: per the ministry"
    assert {k: v for k, v in after.items() if k not in (field, "source")} == {
        k: v for k, v in before.items() if k not in (field, "source")
    }
    assert [r for r in result.places if r["id"] != "osh"] == [r for r in base[1] if r["id"] != "osh"]
    assert result.mentions == base[2] and result.applied == [1]


def test_the_source_keeps_its_citation_and_tells_every_change_in_order(base):
    """Downloads keep where a row came from and every editor's note, not only the latest."""
    result = apply(
        base,
        fix("place:osh", "name", "Osh city", seq=1, note="the article's own name"),
        fix("place:osh", "kind", "second city", seq=2, action=1),  # the same change: told once
        fix("place:osh", "status", "planned", seq=3, editor="bob", at="2026-05-06T00:00:00+00:00", note="per MoD"),
    )
    source = row(result.places, "osh")["source"]
    assert source == (
        f"{row(base[1], 'osh')['source']}; corrected by alice on 2026-03-04: the article's own name"
        "; corrected by bob on 2026-05-06: per MoD"
    )


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [("", 400, "must not be empty"), ("x\x00y", 400, "control characters"), ("a" * 201, 400, "longer than 200"),
     (7, 400, "must be text")],
)  # fmt: skip
def test_a_bad_name_is_not_applied_and_says_why(base, value, status, message):
    result = apply(base, fix("place:osh", "name", value))
    assert row(result.places, "osh") == row(base[1], "osh")
    assert result.applied == [] and result.skipped[0][0] == 1 and message in result.skipped[0][1]
    assert result.errors[1].status == status


def test_moving_a_place_marks_it_placed_by_hand_and_recomputes_its_context(base):
    result = apply(base, fix("place:osh", "location", {"lat": 40.9, "lon": 72.6}, note="the garrison"))
    osh = row(result.places, "osh")
    assert (osh["lat"], osh["lon"], osh["precision"]) == (40.9, 72.6, "manual")
    assert osh["source"] == f"{row(base[1], 'osh')['source']}; moved by alice on 2026-03-04 to a point {BY_HAND}: the garrison"
    assert osh["context"] != row(base[1], "osh")["context"]
    assert osh["context"].endswith(" of Mailuu-Suu") and osh["context"].split()[1] == "km"


def test_a_point_from_the_gazetteer_keeps_its_source_and_precision(base):
    new = {"lat": 40.52828, "lon": 72.7985, "precision": "settlement", "source": "GeoNames 1527534", "country": "KG"}
    osh = row(apply(base, fix("place:osh", "location", new)).places, "osh")
    assert osh["precision"] == "settlement" and osh["country"] == "KG"
    assert osh["source"] == f"{row(base[1], 'osh')['source']}; moved by alice on 2026-03-04 to GeoNames 1527534"


def test_a_chosen_point_never_renames_the_place(base):
    """Choosing the host city's entry for a base moves the base there; it stays the base."""
    kant = row(base[1], "kant-air-base")
    new = {"lat": 42.89, "lon": 74.85, "precision": "settlement", "source": "GeoNames 1527538", "country": "KG",
           "name": "Kant", "kind": "city", "candidate": "geonames:1527538"}  # fmt: skip
    moved = row(apply(base, fix("place:kant-air-base", "location", new)).places, "kant-air-base")
    assert (moved["name"], moved["kind"], moved["id"]) == (kant["name"], kant["kind"], "kant-air-base")
    assert (moved["lat"], moved["lon"], moved["precision"]) == (42.89, 74.85, "settlement")


@pytest.mark.parametrize(
    ("point", "status", "message"),
    [({"lat": 91, "lon": 0}, 422, "outside [-90, 90]"), ({"lat": 0, "lon": -180.5}, 422, "outside [-180, 180]"),
     ({"lat": "1", "lon": 0}, 400, "lat must be a number"), ({"lat": True, "lon": 0}, 400, "lat must be a number"),
     ({"lat": float("nan"), "lon": 0}, 422, "outside"), ({"lat": 1}, 400, "lon must be a number"),
     ({"lat": 1, "lon": 2, "precision": "street"}, 400, "precision must be one of"),
     ({"lat": 1, "lon": 2, "country": "kg"}, 400, "ISO 3166-1"), ([1, 2], 400, "a point is")],
)  # fmt: skip
def test_a_bad_point_is_refused_with_its_status(base, point, status, message):
    result = apply(base, fix("place:osh", "location", point))
    assert result.errors[1].status == status and message in str(result.errors[1])
    assert row(result.places, "osh") == row(base[1], "osh")


def test_removing_a_place_removes_its_mentions(base):
    result = apply(base, fix("place:kant", "removed", True))
    assert row(result.places, "kant") is None
    assert not [m for m in result.mentions if m["place_id"] == "kant"]
    assert len(result.places) == len(base[1]) - 1
    assert len(result.mentions) == len(base[2]) - sum(m["place_id"] == "kant" for m in base[2])


def test_a_created_place_takes_its_mention_and_its_place_in_reading_order(base):
    article, places, mentions = base
    start, end = span_of(article, "President’s Office")
    created = {"name": "Presidential Administration", "lat": 42.8767, "lon": 74.6059, "kind": "building"}
    result = apply(
        base,
        fix("place:presidential-administration", "created", created, seq=1, note="the office"),
        fix(mention_target(start, end), "added", {"place": "presidential-administration"}, seq=2, action=1,
            note="the office"),
    )  # fmt: skip
    new = row(result.places, "presidential-administration")
    assert new["mentions"] == 1 and new["article_name"] == "President’s Office"
    assert new["precision"] == "manual" and new["category"] == "other mentioned place"
    assert new["source"] == f"{BY_HAND}; corrected by alice on 2026-03-04: the office"
    assert "President’s Office" in new["quote"] and new["quote"] in article.text
    first = {p["id"]: min(m["start"] for m in mentions if m["place_id"] == p["id"]) for p in places}
    expected = next(i for i, p in enumerate(places) if first[p["id"]] > start)
    assert [p["id"] for p in result.places].index("presidential-administration") == expected
    assert [p for p in result.places if p is not new] == places
    added = [m for m in result.mentions if m["place_id"] == "presidential-administration"]
    assert added == [{
        "place_id": "presidential-administration", "article": SEED_SLUG, "role": "toponym",
        "sentence": article.sentence_at(start).index, "sentence_start": article.sentence_at(start).start,
        "sentence_end": article.sentence_at(start).end, "start": start, "end": end, "text": "President’s Office",
    }]  # fmt: skip


def test_a_created_place_without_a_mention_is_not_on_the_map(base):
    result = apply(base, fix("place:nowhere", "created", {"name": "Nowhere", "lat": 1, "lon": 2}))
    assert result.applied == [1] and row(result.places, "nowhere") is None


def test_a_place_cannot_be_created_twice(base):
    result = apply(base, fix("place:osh", "created", {"name": "Osh", "lat": 1, "lon": 2}))
    assert result.errors[1].status == 409 and "exists already" in str(result.errors[1])


def test_adding_and_removing_mentions_updates_counts_and_quotes(base):
    article = base[0]
    start, end = span_of(article, "southern capital")
    osh = row(base[1], "osh")
    result = apply(
        base, fix(mention_target(start, end), "added", {"place": "osh", "role": "toponym"}, note="its epithet")
    )
    assert row(result.places, "osh")["mentions"] == osh["mentions"] + 1
    assert row(result.places, "osh")["source"] == f"{osh['source']}; corrected by alice on 2026-03-04: its epithet"
    assert row(result.places, "osh")["quote"] == osh["quote"]  # the sentence it quotes holds the new mention too
    assert {(m["start"], m["end"], m["text"]) for m in result.mentions if m["place_id"] == "osh"} >= {
        (start, end, "southern capital")
    }
    result = apply(
        base,
        fix(mention_target(start, end), "added", {"place": "osh"}, seq=1),
        fix(mention_target(start, end), "removed", None, {"place": "osh"}, seq=2, editor="bob"),
    )
    assert result.mentions == base[2]
    assert row(result.places, "osh") == {
        **osh, "source": f"{osh['source']}; corrected by alice on 2026-03-04; corrected by bob on 2026-03-04"
    }
    assert [r for r in result.places if r["id"] != "osh"] == [r for r in base[1] if r["id"] != "osh"]


def test_a_quote_follows_the_mentions_that_are_left(base):
    kant = [m for m in base[2] if m["place_id"] == "kant"]
    assert len(kant) == 2
    first = kant[0]
    result = apply(base, fix(mention_target(first["start"], first["end"]), "removed", None, {"place": "kant"}))
    row_now = row(result.places, "kant")
    assert row_now["mentions"] == 1
    assert row_now["quote"] != row(base[1], "kant")["quote"]
    assert base[0].text[kant[1]["start"] : kant[1]["end"]] in row_now["quote"]


def test_removing_a_places_last_mention_removes_the_place(base):
    osh = [m for m in base[2] if m["place_id"] == "osh"]
    corrections = [
        fix(mention_target(m["start"], m["end"]), "removed", None, {"place": "osh"}, seq=n)
        for n, m in enumerate(osh, start=1)
    ]
    result = apply(base, *corrections)
    assert row(result.places, "osh") is None and result.applied == list(range(1, len(osh) + 1))


@pytest.mark.parametrize(
    ("span", "new", "status", "message"),
    [((18, 31), {"place": "kant"}, 409, "overlap the mention “Kant Air Base”"),
     ((20, 25), {"place": "kant"}, 409, "overlap"),
     ((5_000_000, 5_000_004), {"place": "kant"}, 422, "not inside the article"),
     ((17, 24), {"place": "kant"}, 422, "not a space"),
     ((120, 122), {"place": "nowhere"}, 404, "no place 'nowhere'"),
     ((120, 122), {"place": "kant", "role": "capital"}, 400, "role must be one of")],
)  # fmt: skip
def test_a_mention_that_cannot_be_is_refused_with_its_status(base, span, new, status, message):
    result = apply(base, fix(mention_target(*span), "added", new))
    assert result.errors[1].status == status and message in str(result.errors[1])
    assert result.mentions == base[2]


def test_a_mention_lies_inside_one_sentence(base):
    article = base[0]
    first, second = article.sentences[2], article.sentences[3]
    assert article.text[first.end - 8 : second.start + 4] == "Bishkek. This"
    result = apply(base, fix(mention_target(first.end - 8, second.start + 4), "added", {"place": "bishkek"}))
    assert result.errors[1].status == 422 and "a mention lies inside one sentence" in str(result.errors[1])


@pytest.mark.parametrize(
    ("correction", "status", "message"),
    [(fix("place:osh", "colour", "red"), 400, "a place has no field 'colour'"),
     (fix("mention:1-2", "moved", None), 400, "can only be added or removed"),
     (fix("mention:1-2", "removed", None), 404, "no mention at characters 1-2"),
     (fix("place:atlantis", "name", "X"), 404, "no place 'atlantis'"),
     (fix("nonsense", "name", "X"), 422, "unknown target")],
)  # fmt: skip
def test_unknown_targets_and_fields_are_refused(base, correction, status, message):
    result = apply(base, correction)
    assert result.errors[1].status == status and message in str(result.errors[1])


def test_a_revert_undoes_and_reverting_the_revert_redoes(base):
    rename = fix("place:osh", "name", "Osh city", "Osh", seq=1)
    undo = fix("place:osh", "name", "Osh", "Osh city", seq=2, reverts=1)
    redo = fix("place:osh", "name", "Osh city", "Osh", seq=3, reverts=2)
    assert apply(base, rename, undo).places == base[1]
    assert counting([rename, undo]) == {1: False, 2: True}
    assert row(apply(base, rename, undo, redo).places, "osh")["name"] == "Osh city"
    assert counting([rename, undo, redo]) == {1: True, 2: False, 3: True}
    states = [r["state"] for r in correction_records([rename, undo, redo], [])]
    assert states == ["applied", "reverted", "reverts #2"]


def test_records_read_back_as_the_same_corrections(base):
    corrections = [
        fix("place:osh", "location", {"lat": 1.5, "lon": 2.25}, None, seq=4, note='=HYPERLINK("x") ${a} <b>'),
        fix("mention:3-9", "removed", None, {"place": "osh", "role": "toponym"}, seq=5, action=4, reverts=0),
        fix("place:osh", "name", "Ош", "Osh", seq=6, reverts=4),
    ]
    records = correction_records(corrections, [(5, "no mention at characters 3-9")])
    assert [r["state"] for r in records] == ["reverted", "not applied: no mention at characters 3-9", "reverts #4"]
    assert records[2]["new"] == '"Ош"'  # JSON text, not escaped to ASCII
    assert [correction_from_record({k: str(v) for k, v in r.items()}) for r in records] == corrections


@pytest.mark.parametrize(
    "change", [{"seq": "x"}, {"old": "{not json"}, {"new": "[1,"}, {"action": "1.5"}, {"target": None}]
)
def test_a_malformed_record_is_a_correction_error(change):
    record = {k: str(v) for k, v in correction_records([fix("place:osh", "name", "X")], [])[0].items()}
    record.update(change)
    record = {k: v for k, v in record.items() if v is not None}  # None: the column is missing
    with pytest.raises(CorrectionError) as raised:
        correction_from_record(record)
    assert raised.value.status == 400 and "not a correction row" in str(raised.value)


# --------------------------------------------------------------------------- the store


def rename(new: str, note: str = "") -> Any:
    """A plan that renames Osh (against the rows read inside the transaction)."""

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        return [Correction("place:osh", "name", new=new, old=row(places, "osh")["name"], note=note)]

    return plan


def test_a_correction_is_stored_applied_and_moves_the_version_on(store):
    version = store.version(SEED_SLUG)
    corrected = store.correct(SEED_SLUG, rename("Osh city", "because"), editor="alice")
    assert corrected.version > version and store.version(SEED_SLUG) == corrected.version
    assert row(store.places(SEED_SLUG), "osh")["name"] == "Osh city"
    assert row(store.geoparsed(SEED_SLUG)[0], "osh")["name"] == "Osh"  # the baseline is kept as it was
    [stored] = store.corrections(SEED_SLUG)
    assert (stored.editor, stored.note, stored.old, stored.new) == ("alice", "because", "Osh", "Osh city")
    assert stored.action == stored.seq and len(stored.uid) == 16 and stored.at.startswith("20")
    assert store.skipped(SEED_SLUG) == []


def test_a_change_with_one_bad_row_writes_nothing(store):
    places, mentions, version = store.places(SEED_SLUG), store.mentions(SEED_SLUG), store.version(SEED_SLUG)

    def plan(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        return [Correction("place:osh", "name", new="Osh city"), Correction("mention:18-31", "added", {"place": "osh"})]

    with pytest.raises(CorrectionError) as raised:
        store.correct(SEED_SLUG, plan, editor="alice")
    assert raised.value.status == 409 and "overlap" in str(raised.value)
    assert store.corrections(SEED_SLUG) == [] and store.version(SEED_SLUG) == version
    assert store.places(SEED_SLUG) == places and store.mentions(SEED_SLUG) == mentions


def test_a_change_that_would_strand_an_earlier_one_is_refused(store):
    article = store.article(SEED_SLUG)
    start, end = span_of(article, "President’s Office")
    new = {"name": "Presidential Administration", "lat": 42.8767, "lon": 74.6059}

    def create(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        return [Correction("place:office", "created", new), Correction(mention_target(start, end), "added", {"place": "office"})]  # fmt: skip

    made = store.correct(SEED_SLUG, create, editor="alice").corrections
    assert row(store.places(SEED_SLUG), "office")["mentions"] == 1
    assert made[1].action == made[0].seq  # one change, one undo step
    places, version = store.places(SEED_SLUG), store.version(SEED_SLUG)

    def unmake(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        return [Correction("place:office", "created", None, new, reverts=made[0].seq)]

    with pytest.raises(CorrectionError) as raised:
        store.correct(SEED_SLUG, unmake, editor="bob")
    assert raised.value.status == 409 and f"change #{made[1].seq} with nothing to apply to" in str(raised.value)
    assert store.corrections(SEED_SLUG) == made
    assert store.places(SEED_SLUG) == places and store.version(SEED_SLUG) == version


def test_nothing_to_change_and_no_article_are_refused(store):
    with pytest.raises(CorrectionError) as raised:
        store.correct(SEED_SLUG, lambda *_: [], editor="alice")
    assert raised.value.status == 400
    with pytest.raises(CorrectionError) as raised:
        store.correct("no-such-article", rename("X"), editor="alice")
    assert raised.value.status == 404


def test_corrections_are_append_only_while_their_article_exists(store):
    store.correct(SEED_SLUG, rename("Osh city"), editor="alice")
    for statement in ("UPDATE corrections SET note = 'rewritten'", "DELETE FROM corrections"):
        with pytest.raises(sqlite3.IntegrityError, match="corrections are append-only"):
            store.conn.execute(statement)
    assert [c.note for c in store.corrections(SEED_SLUG)] == [""]
    assert store.delete_article(SEED_SLUG)
    assert store.conn.execute("SELECT count(*) FROM corrections").fetchone()[0] == 0
    assert store.corrections(SEED_SLUG) == [] and store.skipped(SEED_SLUG) == []


def test_storing_the_article_again_replays_its_corrections(store):
    store.correct(SEED_SLUG, rename("Osh city"), editor="alice")
    corrected = store.places(SEED_SLUG)
    store.put_article(store.article(SEED_SLUG), *store.geoparsed(SEED_SLUG))
    assert store.places(SEED_SLUG) == corrected


def test_import_adds_by_uid_once_and_maps_reverts_to_this_database(store, built: Path, tmp_path: Path):
    store.correct(SEED_SLUG, rename("Osh city"), editor="alice")
    [first] = store.corrections(SEED_SLUG)

    def undo(article: Article, places: Rows, mentions: Rows) -> list[Correction]:
        return [Correction("place:osh", "name", new=first.old, old=first.new, reverts=first.seq)]

    store.correct(SEED_SLUG, undo, editor="alice")
    store.correct(SEED_SLUG, rename("Oš"), editor="bob")
    exported = store.corrections(SEED_SLUG)
    shutil.copy(built / "data" / "newsmap.db", tmp_path / "other.db")  # the article without corrections
    other = Store.open(tmp_path / "other.db")
    try:
        other.correct(SEED_SLUG, rename("Osh (south)"), editor="carol")  # seq 1 here: the file's seqs move on
        assert other.import_corrections(SEED_SLUG, exported) == 3
        assert other.import_corrections(SEED_SLUG, exported) == 0
        imported = other.corrections(SEED_SLUG)[1:]
        assert [c.uid for c in imported] == [c.uid for c in exported]
        assert [(c.editor, c.at, c.new) for c in imported] == [(c.editor, c.at, c.new) for c in exported]
        assert imported[1].reverts == imported[0].seq != exported[0].seq
        assert row(other.places(SEED_SLUG), "osh")["name"] == "Oš"
    finally:
        other.close()


def test_import_takes_a_repeated_uid_once_and_refuses_rows_the_table_could_never_use(store):
    twice = [fix("place:osh", "status", "a", seq=1, uid="same"), fix("place:osh", "status", "b", seq=2, uid="same")]
    assert store.import_corrections(SEED_SLUG, twice) == 1
    assert [c.new for c in store.corrections(SEED_SLUG)] == ["a"]
    for bad, why in [
        (fix("place:osh", "status", "c", seq=3, uid=""), "no uid"),
        (fix("place:osh", "colour", "red", seq=3, uid="u3"), "has no field 'colour'"),
        (fix("town:osh", "status", "c", seq=3, uid="u4"), "neither place:<id> nor mention"),
    ]:
        with pytest.raises(CorrectionError, match=why):
            store.import_corrections(SEED_SLUG, [bad])
    assert len(store.corrections(SEED_SLUG)) == 1  # nothing of a refused import was kept
