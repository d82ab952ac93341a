"""Correcting an article through the editing API: every kind of change, what readers then get
(page, CSV, GeoJSON, KML, API), conflicts, bad input, who may edit, payloads, and 50 edits at
once through the production server."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from newsmap.accounts import add_token, add_user
from newsmap.store import Store, connect

from .conftest import SEED_SLUG, LiveServer, app_for, site_env
from .payloads import FORMULAS, PAYLOADS

API = f"/api/articles/{SEED_SLUG}"
PAGE = f"/articles/{SEED_SLUG}"


@pytest.fixture()
def token(workdir: Path) -> str:
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    secret = add_token(conn, "alice", "tests")
    conn.close()
    return secret


@pytest.fixture()
def api(workdir: Path, token: str):
    """An API client for an editor; a PATCH or DELETE of a place or mention reads the place's ETag
    first and sends it in If-Match, as an editor's client must (`blind=True`: it does not)."""
    client = app_for(workdir).test_client()

    def call(method: str, path: str, blind: bool = False, **kwargs):
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        if method in ("PATCH", "DELETE") and not blind and "If-Match" not in headers:
            etag = current_etag(client, path)
            if etag:
                headers["If-Match"] = etag
        return client.open(path, method=method, headers=headers, **kwargs)

    call.client = client  # type: ignore[attr-defined]
    return call


def current_etag(client, path: str) -> str | None:
    """The ETag of the place that a change of `path` (/places/<id> or /mentions/<n or start-end>) touches."""
    parts = path.removeprefix(API).split("/")
    if len(parts) < 3 or parts[1] not in ("places", "mentions"):
        return None
    place_id = parts[2]
    if parts[1] == "mentions":
        rows = list(csv.DictReader(io.StringIO(client.get(f"{PAGE}/mentions.csv").text)))
        by_key = {f"{row['start']}-{row['end']}": row for row in rows} | {str(n): row for n, row in enumerate(rows)}
        if place_id not in by_key:
            return None
        place_id = by_key[place_id]["place_id"]
    answer = client.get(f"{API}/places/{place_id}")
    return answer.headers.get("ETag") if answer.status_code == 200 else None


def place(api, place_id: str) -> dict:
    return api.client.get(f"{API}/places/{place_id}").get_json()


def version(workdir: Path) -> int:
    store = Store.open(workdir / "data" / "newsmap.db")
    try:
        return store.version(SEED_SLUG) or 0
    finally:
        store.close()


def test_editing_a_row_shows_everywhere_at_once_with_who_and_why(api):
    before = api.client.get(PAGE).text
    edited = api("PATCH", f"{API}/places/osh", json={"status": "planned", "kind": "second city", "note": "per MoD"})
    assert edited.status_code == 200, edited.get_json()
    body = edited.get_json()
    assert body["place"]["status"] == "planned" and body["place"]["kind"] == "second city"
    assert [(c["field"], c["old"], c["new"]) for c in body["corrections"]] == [
        ("kind", '"city"', '"second city"'),
        ("status", '"under discussion"', '"planned"'),
    ]
    source = place(api, "osh")["source"]
    assert source.startswith("GeoNames") and source.endswith("; corrected by alice on " + body["corrections"][0]["at"][:10] + ": per MoD")
    row = next(r for r in csv.DictReader(io.StringIO(api.client.get(f"{PAGE}/locations.csv").text)) if r["id"] == "osh")
    assert row["status"] == "planned" and row["source"] == source
    feature = next(f for f in api.client.get(f"{PAGE}/locations.geojson").get_json()["features"] if f["id"] == "osh")
    assert feature["properties"]["status"] == "planned"
    assert "second city" in api.client.get(f"{PAGE}/locations.kml").text
    page = api.client.get(PAGE).text
    assert page != before and "Corrected by alice on" in page and "per MoD" in page
    history = api.client.get(f"{API}/corrections").get_json()
    assert [(c["seq"], c["editor"], c["state"]) for c in history] == [(1, "alice", "applied"), (2, "alice", "applied")]
    assert history[0]["action"] == history[1]["action"] == 1  # one change, one undo step


def test_moving_a_place_to_a_point_sets_precision_manual_and_its_context(api):
    moved = api("PATCH", f"{API}/places/kant-air-base", json={"lat": 42.86, "lon": 74.85, "note": "runway centre"})
    assert moved.status_code == 200
    now = place(api, "kant-air-base")
    assert (now["lat"], now["lon"], now["precision"]) == (42.86, 74.85, "manual")
    assert now["source"].startswith("Wikipedia") and "; moved by alice on " in now["source"]  # its citation stays
    assert now["source"].endswith(" to a point placed by hand: runway centre") and now["country"] == "KG"
    assert now["context"].endswith("of Kant") or now["context"].endswith("of Bishkek"), now["context"]
    assert len(now["mentions"]) >= 1 and now["id"] == "kant-air-base"


def test_if_match_gives_a_conflict_with_the_current_state_and_changes_nothing(api, workdir):
    read = api.client.get(f"{API}/places/osh")
    etag = read.headers["ETag"]
    first = api("PATCH", f"{API}/places/osh", json={"status": "first"}, headers={"If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    at = version(workdir)
    second = api("PATCH", f"{API}/places/osh", json={"status": "second"}, headers={"If-Match": etag})
    assert second.status_code == 409
    assert second.get_json()["current"]["status"] == "first" and "changed by someone else" in second.get_json()["message"]
    assert second.headers["ETag"] == api.client.get(f"{API}/places/osh").headers["ETag"]
    assert version(workdir) == at and place(api, "osh")["status"] == "first"
    again = api("PATCH", f"{API}/places/osh", json={"status": "second"}, headers={"If-Match": second.headers["ETag"]})
    assert again.status_code == 200 and place(api, "osh")["status"] == "second"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("PATCH", "/places/osh", {"lat": 91, "lon": 10}, 422, "Lat 91 is outside [-90, 90]."),
        ("PATCH", "/places/osh", {"lat": 40, "lon": -181}, 422, "Lon -181 is outside [-180, 180]."),
        ("PATCH", "/places/osh", {"lat": "40", "lon": 10}, 400, "Lat must be a number."),
        ("PATCH", "/places/osh", {"name": ""}, 400, "Name must not be empty."),
        ("PATCH", "/places/osh", {"precision": "exact"}, 400, "Precision must be one of"),
        ("PATCH", "/places/osh", {"colour": "red"}, 400, "Unknown field 'colour'"),
        ("PATCH", "/places/osh", {"status": "under discussion"}, 400, "Nothing to change"),
        ("PATCH", "/places/atlantis", {"status": "x"}, 404, "No place with id 'atlantis'"),
        ("DELETE", "/places/atlantis", None, 404, "No place with id 'atlantis'"),
        ("POST", "/mentions", {"start": 5, "end": 2, "place": "osh"}, 422, "are not inside the article"),
        ("POST", "/mentions", {"start": 0, "end": 6, "text": "Russia", "place": "osh"}, 422, "not “Russia”"),
        ("POST", "/mentions", {"start": 18, "end": 22, "place": "osh"}, 409, "overlap the mention “Kant Air Base”"),
        ("POST", "/mentions", {"start": 0, "end": 6, "place": "atlantis"}, 404, "No place with id 'atlantis'"),
        ("POST", "/mentions", {"start": "0", "end": 6, "place": "osh"}, 400, "must be whole numbers"),
        ("POST", "/mentions", {"start": 0, "end": 6, "place": {"name": "X", "lat": 100, "lon": 0}}, 422, "outside"),
        ("DELETE", "/mentions/999999", None, 404, "No mention '999999'"),
        ("DELETE", "/mentions/1-2", None, 404, "No mention '1-2'"),
        ("POST", "/corrections/77/revert", {}, 404, "No correction #77"),
        ("POST", "/undo", {}, 409, "Nothing of yours to undo"),
    ],
)
def test_bad_changes_get_a_clear_message_and_change_nothing(api, workdir, method, path, body, status, message):
    at = version(workdir)
    answer = api(method, API + path, **({"json": body} if body is not None else {}))
    assert answer.status_code == status, answer.get_json()
    assert message in answer.get_json()["message"]
    assert version(workdir) == at and api.client.get(f"{API}/corrections").get_json() == []


def test_removing_a_place_unlinks_its_mentions_and_undo_brings_it_back(api):
    kant_links = api.client.get(PAGE).text.count('data-place="kant"')
    assert kant_links >= 2
    removed = api("DELETE", f"{API}/places/kant", json={"note": "the article means the base"})
    assert removed.status_code == 200
    assert api.client.get(f"{API}/places/kant").status_code == 404
    page = api.client.get(PAGE).text
    assert 'data-place="kant"' not in page and "Kant" in page  # the text stays, its links go
    assert "kant" not in {r["id"] for r in csv.DictReader(io.StringIO(api.client.get(f"{PAGE}/locations.csv").text))}
    assert "kant" not in {r["place_id"] for r in csv.DictReader(io.StringIO(api.client.get(f"{PAGE}/mentions.csv").text))}
    undone = api("POST", f"{API}/undo", json={})
    assert undone.status_code == 200 and api.client.get(PAGE).text.count('data-place="kant"') == kant_links
    states = [c["state"] for c in api.client.get(f"{API}/corrections").get_json()]
    assert states == ["reverted", "reverts #1"]


def test_adding_a_missed_place_from_words_of_the_text(api):
    text = api.client.get(f"/articles/{SEED_SLUG}/mentions.csv").text
    article = Store.open(Path(api.client.application.config["DB"])).article(SEED_SLUG)
    start = article.text.index("southern capital")
    end = start + len("southern capital")
    assert f",{start},{end}," not in text
    body = {"start": start, "end": end, "text": "southern capital", "place": {"name": "Osh (southern capital)",
            "lat": 40.53, "lon": 72.8, "kind": "city", "category": "proposed or discussed base"}, "note": "a nickname"}  # fmt: skip
    added = api("POST", f"{API}/mentions", json=body)
    assert added.status_code == 201, added.get_json()
    new = added.get_json()["place"]
    assert added.headers["Location"] == f"{API}/places/{new['id']}" and new["id"] == "osh-southern-capital"
    assert new["precision"] == "manual" and new["mentions"][0]["text"] == "southern capital"
    assert "southern capital" in new["quote"]
    page = api.client.get(PAGE).text
    assert f'data-place="{new["id"]}">southern capital</a>' in page
    linked = api("POST", f"{API}/mentions", json={"start": start - 30, "end": start - 30, "place": "osh"})
    assert linked.status_code == 422  # an empty span
    # Removing its only mention takes the place off the map too; reverting brings both back.
    gone = api("DELETE", f"{API}/mentions/{start}-{end}")
    assert gone.status_code == 200 and api.client.get(f"{API}/places/{new['id']}").status_code == 404
    seq = gone.get_json()["corrections"][0]["seq"]
    assert api("POST", f"{API}/corrections/{seq}/revert", json={}).status_code == 200
    assert api.client.get(f"{API}/places/{new['id']}").status_code == 200


def test_unlinking_one_mention_by_its_number(api):
    mentions = list(csv.DictReader(io.StringIO(api.client.get(f"{PAGE}/mentions.csv").text)))
    n = next(i for i, m in enumerate(mentions) if m["place_id"] == "bishkek")
    before = len(place(api, "bishkek")["mentions"])
    assert api("DELETE", f"{API}/mentions/{n}").status_code == 200
    now = place(api, "bishkek")
    assert len(now["mentions"]) == before - 1 and now["source"].startswith("GeoNames") and "; corrected by alice" in now["source"]


def test_revert_and_redo_from_the_history(api):
    api("PATCH", f"{API}/places/osh", json={"status": "one"})
    api("PATCH", f"{API}/places/osh", json={"status": "two"})
    reverted = api("POST", f"{API}/corrections/1/revert", json={"note": "first was wrong"})
    assert reverted.status_code == 200 and place(api, "osh")["status"] == "two"  # the later change still applies
    assert api("POST", f"{API}/corrections/1/revert", json={}).status_code == 409  # reverted already
    api("POST", f"{API}/corrections/2/revert", json={})
    assert place(api, "osh")["status"] == "under discussion"
    redo = api("POST", f"{API}/corrections/4/revert", json={})  # reverting the revert makes the change again
    assert redo.status_code == 200 and place(api, "osh")["status"] == "two"
    states = {c["seq"]: c["state"] for c in api.client.get(f"{API}/corrections").get_json()}
    assert states == {1: "reverted", 2: "applied", 3: "reverts #1", 4: "reverted", 5: "reverts #4"}


def test_a_revert_that_would_strand_a_later_change_is_refused(api):
    created = api("POST", f"{API}/mentions", json={"start": 0, "end": 6, "place": {"name": "Status", "lat": 1, "lon": 1}})
    assert created.status_code == 201
    api("PATCH", f"{API}/places/status", json={"kind": "word"})
    refused = api("POST", f"{API}/corrections/1/revert", json={})
    assert refused.status_code == 409 and "revert it first" in refused.get_json()["message"]


def test_readers_get_no_controls_and_the_api_refuses_them(api, workdir):
    reader = app_for(workdir).test_client()
    page = reader.get(PAGE).text
    assert "editor.js" not in page and "data-edit=" not in page and "nm-edit-panel" not in page
    for method, path in [("PATCH", "/places/osh"), ("DELETE", "/places/osh"), ("POST", "/mentions"),
                         ("DELETE", "/mentions/0"), ("POST", "/undo"), ("POST", "/corrections/1/revert")]:  # fmt: skip
        answer = reader.open(API + path, method=method, json={"status": "x"})
        assert answer.status_code == 401 and "Bearer" in answer.headers["WWW-Authenticate"], (method, path)
    assert reader.get(f"{API}/places/osh/candidates").status_code == 401
    assert reader.get(f"{PAGE}/edit").status_code == 302
    assert api.client.get(f"{API}/corrections").status_code == 200  # the history itself is public


def test_a_signed_in_page_needs_the_csrf_token(workdir, token):
    client = app_for(workdir).test_client()
    login = client.get("/login").text
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"name": "alice", "password": "correct horse battery", "csrf_token": csrf})
    edit = client.get(f"{PAGE}/edit")
    assert edit.status_code == 200 and "/static/editor.js" in edit.text and "Editing as alice" in edit.text
    page_token = re.search(r'name="csrf-token" content="([^"]+)"', edit.text).group(1)
    refused = client.patch(f"{API}/places/osh", json={"status": "x"})
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["message"]
    etag = client.get(f"{API}/places/osh").headers["ETag"]
    accepted = client.patch(f"{API}/places/osh", json={"status": "x"}, headers={"X-CSRFToken": page_token, "If-Match": etag})
    assert accepted.status_code == 200 and accepted.get_json()["corrections"][0]["editor"] == "alice"


def test_edit_limits_apply(workdir, token):
    client = app_for(workdir, EDIT_LIMIT="2 per hour").test_client()
    headers = {"Authorization": f"Bearer {token}"}
    codes = [
        client.patch(f"{API}/places/osh", json={"status": f"s{n}"}, headers={**headers, "If-Match": current_etag(client, f"{API}/places/osh")}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_payloads_in_names_and_notes_stay_text_everywhere(api, token):
    for n, payload in enumerate(PAYLOADS):
        answer = api("PATCH", f"{API}/places/osh", json={"name": f"{payload} {n}", "note": payload})
        assert answer.status_code == 200, answer.get_json()
    formula = api("PATCH", f"{API}/places/bishkek", json={"status": FORMULAS[0], "note": FORMULAS[3]})
    assert formula.status_code == 200
    history = api.client.get(f"{API}/corrections").get_json()
    assert [json.loads(row["new"]) for row in history] == [*(f"{p} {n}" for n, p in enumerate(PAYLOADS)), FORMULAS[0]]
    page = api.client.get(PAGE).text
    edit = api("GET", f"{PAGE}/edit").text
    for html in (page, edit):
        assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;alert" in html
    for line in csv.reader(io.StringIO(api.client.get(f"{PAGE}/corrections.csv").text)):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line), line
    for line in csv.reader(io.StringIO(api.client.get(f"{PAGE}/locations.csv").text)):
        assert not any(cell.startswith(("=", "+", "@")) for cell in line), line
    assert json.loads(api.client.get(f"{PAGE}/corrections.json").data) == history


def test_fifty_edits_at_once_through_the_production_server_lose_none(built, tmp_path):
    """Gunicorn with its workers, as `make serve` runs it: 50 PATCHes of different places and fields
    in parallel, each with the If-Match it read (a 409 is read again and retried, as the editor
    does), all land; two saves of one place with the same ETag: one 409; a save without If-Match:
    428 and nothing changes."""
    import shutil

    shutil.copytree(built, tmp_path / "site")
    conn = connect(tmp_path / "site" / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    secret = add_token(conn, "alice", "load")
    conn.close()
    server = LiveServer({**site_env(tmp_path / "site"), "NEWSMAP_EDIT_LIMIT": "1000 per hour"}, gunicorn=True)
    try:

        def call(method: str, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
            request = urllib.request.Request(
                server.url + path, data=json.dumps(body).encode(), method=method,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}", **(headers or {})},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    return answer.status, json.loads(answer.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        with urllib.request.urlopen(server.url + API + "/places", timeout=30) as answer:
            ids = [p["id"] for p in json.loads(answer.read())]
        jobs = [(ids[n % len(ids)], ("status", "kind", "category")[n // len(ids)], f"edit {n}") for n in range(50)]

        def edit(job: tuple[str, str, str]) -> tuple[int, dict]:
            for _ in range(20):  # read, change, and on a conflict read again
                with urllib.request.urlopen(f"{server.url}{API}/places/{job[0]}", timeout=30) as answer:
                    etag = answer.headers["ETag"]
                result = call("PATCH", f"{API}/places/{job[0]}", {job[1]: job[2]}, {"If-Match": etag})
                if result[0] != 409:
                    return result
            return result

        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(edit, jobs))
        assert [status for status, _ in results] == [200] * 50, [r for r in results if r[0] != 200][:3]
        blind = call("PATCH", f"{API}/places/{ids[0]}", {"status": "blind"})
        assert blind[0] == 428 and "If-Match" in blind[1]["message"]
        with urllib.request.urlopen(server.url + API + "/places", timeout=30) as answer:
            now = {p["id"]: p for p in json.loads(answer.read())}
        assert all(now[pid][field] == value for pid, field, value in jobs)
        with urllib.request.urlopen(server.url + API + "/corrections", timeout=30) as answer:
            assert len(json.loads(answer.read())) == 50
        with urllib.request.urlopen(server.url + API + "/places/osh", timeout=30) as answer:
            etag = answer.headers["ETag"]
        barrier, statuses = threading.Barrier(2), []

        def save(value: str) -> None:
            barrier.wait()
            statuses.append(call("PATCH", f"{API}/places/osh", {"status": value}, {"If-Match": etag})[0])

        racers = [threading.Thread(target=save, args=(v,)) for v in ("a", "b")]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)
        assert sorted(statuses) == [200, 409]
    finally:
        server.stop()


def test_an_article_stored_before_corrections_existed_is_corrected_once(api, workdir):
    """Articles written by an older newsmap have no copy of their geoparse (schema 3): the first
    change keeps their rows as it, so later changes do not replay the first one twice."""
    conn = connect(workdir / "data" / "newsmap.db")
    conn.execute("DELETE FROM geoparsed")
    conn.close()
    assert api("DELETE", f"{API}/places/sochi").status_code == 200
    assert api("PATCH", f"{API}/places/osh", json={"status": "later"}).status_code == 200
    assert api("POST", f"{API}/undo", json={}).status_code == 200
    assert api.client.get(f"{API}/places/sochi").status_code == 404 and place(api, "osh")["status"] == "under discussion"
    assert api("POST", f"{API}/undo", json={}).status_code == 200
    assert place(api, "sochi")["id"] == "sochi"


@pytest.mark.parametrize(("method", "path"), [("PATCH", "/places/osh"), ("DELETE", "/places/osh"), ("DELETE", "/mentions/0")])
def test_changing_an_existing_place_or_mention_needs_if_match(api, method, path):
    """A blind write would overwrite another editor's change unseen: 428, naming the header, and nothing changes."""
    before = api.client.get(f"{API}/corrections").get_json()
    answer = api(method, API + path, blind=True, json={"status": "blind"} if method == "PATCH" else None)
    assert answer.status_code == 428 and "If-Match" in answer.get_json()["message"]
    assert api.client.get(f"{API}/corrections").get_json() == before


def test_using_a_candidate_moves_the_place_and_keeps_what_it_is(api):
    """Choosing the host city's entry for an air base moves the base there; it stays the base (one row, its name)."""
    base = place(api, "kant-air-base")
    town = api("GET", f"{API}/places/kant/candidates").get_json()["candidates"][0]
    moved = api("PATCH", f"{API}/places/kant-air-base", json={"candidate": town["key"], "note": "the site is not published"})
    assert moved.status_code == 200, moved.get_json()
    now = place(api, "kant-air-base")
    assert (now["name"], now["kind"]) == (base["name"], base["kind"])
    assert (now["lat"], now["lon"]) == (round(town["lat"], 5), round(town["lon"], 5))
    assert now["source"].startswith(base["source"]) and now["source"].endswith(f" to {town['source']}: the site is not published")
    names = [p["name"] for p in api.client.get(f"{API}/places").get_json()]
    assert names.count(base["name"]) == 1 and names.count("Kant") == 1  # no second row with the town's name
    (change,) = [c for c in api.client.get(f"{API}/corrections").get_json() if c["field"] == "location"]
    assert json.loads(change["new"])["candidate"] == town["key"]


def test_a_place_put_on_the_map_by_hand_gets_its_country_from_the_shapes(api):
    article = Store.open(Path(api.client.application.config["DB"])).article(SEED_SLUG)
    start = article.text.index("southern capital")
    body = {"start": start, "end": start + len("southern capital"), "place": {"name": "A spot", "lat": 40.55, "lon": 72.81}}
    added = api("POST", f"{API}/mentions", json=body)
    assert added.status_code == 201, added.get_json()
    new = added.get_json()["place"]
    assert new["country"] == "KG" and new["precision"] == "manual"
    moved = api("PATCH", f"{API}/places/{new['id']}", json={"lat": 41.31, "lon": 69.28})  # into Tashkent
    assert moved.status_code == 200 and place(api, new["id"])["country"] == "UZ"
    page = api.client.get(PAGE).text  # its popup says who named it, not "In the gazetteer"
    data = json.loads(page.split('id="newsmap-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    named = {p["id"]: p.get("named") for p in data["places"]}
    assert named[new["id"]] == "editor" and named["osh"] is None
