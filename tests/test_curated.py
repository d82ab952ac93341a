"""The curated data checks itself: every curated point against its counterpart in the packaged data.

tools/check_curated.py compares each row of data/gazetteer.csv and newsmap/geoparser/data/*.csv
with the aerodrome point airportsdata gives its ICAO code, or the GeoNames town it names or is
placed at, and fails beyond 5 km unless the row says by how much and why. `make test` runs it
here, so CI does too.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "check_curated.py"


def test_every_curated_point_agrees_with_the_packaged_data():
    done = subprocess.run([sys.executable, str(TOOL)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout


def test_the_check_catches_a_point_off_its_counterpart_unless_the_row_says_why(tmp_path, monkeypatch):
    sys.path.insert(0, str(TOOL.parent))
    try:
        import check_curated
    finally:
        sys.path.remove(str(TOOL.parent))
    header = "id,name,aliases,kind,precision,lat,lon,country,population,parts,operator,status,source\n"
    kant = "42.89106,74.85077"  # GeoNames 1528193, the town of Kant
    rows = [
        f'fine,Kant,,town,settlement,{kant},KG,,,,,,"placed at Kant (GeoNames 1528193)"\n',
        'off,Kant,,town,settlement,42.99,74.85,KG,,,,,"placed at Kant (GeoNames 1528193)"\n',  # 11 km north
        'said,Kant,,town,settlement,42.99,74.85,KG,,,,,"a site 11 km N of Kant (GeoNames 1528193): the page says so"\n',
        'false,Kantbase,,air base,facility,42.85306,74.84639,KG,,,,,"the field, 30 km S of the town of Kant"\n',
        'field,Kant Air Base,,air base,facility,42.95,74.84639,KG,,,,,"airportsdata ICAO UAFW"\n',  # 11 km off the field
    ]
    path = tmp_path / "curated.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    monkeypatch.setattr(check_curated, "ROOT", tmp_path)
    failures, _, checked = check_curated.check((path,))
    failed = {line.split(":")[1].strip() for line in failures}
    assert failed == {"off", "false", "field"}, failures
    assert checked >= 4


def test_new_kinds_of_curated_place_are_there():
    """Ports, radar and space sites, and de facto states, each row citing its page (test_gazetteer checks the form)."""
    data = ROOT / "newsmap" / "geoparser" / "data"
    kinds = set()
    for name in ("installations.csv", "territories.csv"):
        with (data / name).open(encoding="utf-8", newline="") as handle:
            kinds |= {row["kind"] for row in csv.DictReader(handle)}
    assert {"port", "radar station", "de facto state", "air base", "naval base"} <= kinds
