"""The grades for the LMS as CSV (gradelib/grading/lms/export.py), column by column, on a gradebook made here.

The formats are those the LMSs document for their gradebook import:
- Canvas: Student, ID, SIS User ID, SIS Login ID, Section, then the assignments, and a "Points Possible" row
  (https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades,
  "four required components"; https://ts.vcu.edu/askit/teaching-and-learning/canvas/faculty/grading-faculty/gradebook-action-menu-faculty/
  for the export this import mirrors);
- Moodle: "the import file format is the same as the corresponding export format", users matched by mapping a
  column to a user field, "Email Address" to "useremail" the tip it gives (https://docs.moodle.org/311/en/Grade_import).
The gradebook is made with nbgrader's Gradebook API: the scores are set per grade cell here, and what the CSV must
hold is computed from them.
"""
import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lms_gradebook import CELLS, STUDENTS, make_gradebook, total

from gradelib.grading.lms import export


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    return make_gradebook(tmp_path_factory.mktemp("gradebook") / "gradebook.db")

def exported(db_url, *args, capsys):
    assert export.main([*args, "--db", db_url]) == 0
    return list(csv.reader(io.StringIO(capsys.readouterr().out)))


def test_canvas_columns(db_url, capsys):
    rows = exported(db_url, "canvas", capsys=capsys)
    assignments = list(CELLS)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments]
    assert rows[1] == ["Points Possible", "", "", "", ""] + [export.number(sum(CELLS[a].values()), "")
                                                             for a in assignments]
    assert rows[1][5:] == ["10", "5"]
    body = {row[3]: row for row in rows[2:]}
    assert set(body) == set(STUDENTS)   # every student, also the one who handed nothing in
    for student, (first, last, _, lms) in STUDENTS.items():
        row = body[student]
        assert row[0] == f"{last}, {first}"     # Canvas's "Last, First" (a comma inside is quoted by csv)
        assert row[1] == lms and row[2] == "" and row[4] == ""
        for k, assignment in enumerate(assignments):
            expected = total(student, assignment)
            assert row[5 + k] == ("" if expected is None else export.number(expected, "")), (student, assignment)
    assert body["alice"][5:] == ["9.5", "5"] and body["bob"][5:] == ["2.25", ""] and body["carol"][5:] == ["", ""]


def test_moodle_columns(db_url, capsys):
    rows = exported(db_url, "moodle", "02_second", capsys=capsys)
    assert rows[0] == ["First name", "Last name", "Email address", "Username", "User ID", "02_second (Real)"]
    assert len(rows) == 1 + len(STUDENTS)   # no points row: Moodle would take it for a student
    for row in rows[1:]:
        first, last, email, lms = STUDENTS[row[3]]
        assert row[:5] == [first, last, email, row[3], lms]
        expected = total(row[3], "02_second")
        assert row[5] == ("" if expected is None else export.number(expected, ""))


def test_missing_zero_only_when_asked(db_url, capsys):
    rows = exported(db_url, "canvas", "--missing", "zero", capsys=capsys)
    body = {row[3]: row[5:] for row in rows[2:]}
    assert body["carol"] == ["0", "0"] and body["bob"] == ["2.25", "0"] and body["alice"] == ["9.5", "5"]


def test_command_line_writes_the_file(db_url, tmp_path):
    out = tmp_path / "grades.csv"
    proc = subprocess.run([sys.executable, "-m", "gradelib.grading.lms.export", "moodle", "01_first", "--db", db_url,
                           "-o", str(out)], check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("First name,Last name,Email address,Username,User ID,01_first (Real)\r\n")
    assert 'Carol,"Xu, Jr.",carol@uni.example,carol,1003,\r\n' in text


@pytest.mark.parametrize("args, words", [
    (["canvas", "03_nope"], "the gradebook has no assignment 03_nope; it has 01_first, 02_second"),
    (["canvas", "--course", "/nonexistent-course"], "is not a course folder"),
])
def test_bad_input_gets_a_sentence(db_url, capsys, args, words):
    db = [] if "--course" in args else ["--db", db_url]
    assert export.main([*args, *db]) == 2
    assert words in capsys.readouterr().err


def test_missing_gradebook_is_said_not_made(tmp_path, capsys):
    path = tmp_path / "none.db"
    assert export.main(["canvas", "--db", f"sqlite:///{path}"]) == 2
    assert "there is no gradebook at" in capsys.readouterr().err
    assert not path.exists()


def test_the_readme_shows_what_export_writes(db_url):
    """README, "Running the course from your LMS": its example CSVs are the first lines export writes for this
    gradebook, Canvas's then Moodle's."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running the course from your LMS\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```csv\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    grades = export.read_grades(db_url)
    for lms, block in zip(("canvas", "moodle"), blocks):
        shown = block.splitlines()
        assert export.to_csv(grades, lms).splitlines()[:len(shown)] == shown, lms
