"""The misconception report: the store of verdicts, the figures and the page, on a class with planted mistakes.

The class is built by the benchmark's builder (benchmarks/class_grading.py):
right, wrong, broken, tampered and unanswered submissions, and submissions
with named mistakes planted (PLANTED).  What each student should be charged
with is computed here from what was planted, by gradelib.check on the planted
function itself, never written down by hand; the report, made from real
grading (classgrade, and plain nbgrader autograde), must count every one with
the right share.  Two more are planted here: a by-hand page whose first step
(z) is wrong, beside the unanswered student's blank page, and a notebook whose
Python process dies (os._exit) when it runs.
"""
import csv
import html
import io
import re
import sqlite3
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "fixtures"))
sys.path.insert(0, str(HERE.parent / "benchmarks"))
import class_grading  # noqa: E402
import classroom  # noqa: E402

import gradelib  # noqa: E402
from gradelib.grading.report import cli as report, store as verdicts  # noqa: E402
from gradelib.grading.judge.cells import grade_calls  # noqa: E402
from gradelib.grading.judge.labels import title  # noqa: E402
from gradelib.grading.report.tally import GAPS, MIN_TOGETHER, NOT_ATTEMPTED, tally  # noqa: E402

ASSIGNMENT = "01_single_neuron"
CLASS = ["correct", "forgot_relu", "ascent", "forgot_relu", "factor_2", "wrong", "broken",
         "tampered_transformer", "unanswered", "forgot_relu", "ascent", "correct", "hand_z_slip", "crashed"]
STUDENTS = [f"s{i:03d}_{kind}" for i, kind in enumerate(CLASS)]
NOT_COUNTED = ("broken", "crashed")   # not graded (not JSON), and not judged (its process died)
BY_HAND = "single_neuron_by_hand"   # the by-hand task's function, and its exercise in the store of verdicts


def _hand_z_slip(right):
    """A by-hand page right but for its first step: z without the bias (the later steps use the right z)."""
    page = right[BY_HAND].replace('page = {"z": z,', 'page = {"z": z - p["b"],')
    assert page != right[BY_HAND]
    return dict(right, **{BY_HAND: page})


def _graded_course(root):
    course = classroom.make_course(root / "course", [ASSIGNMENT], source=classroom.REPO / "source", timeout=30)
    right = classroom.source_solutions(course, ASSIGNMENT)
    for student, kind in zip(STUDENTS, CLASS):
        if kind == "hand_z_slip":
            classroom.submit(course, student, ASSIGNMENT, solutions=_hand_z_slip(right))
        elif kind == "crashed":   # the benchmark's broken kind number 1: os._exit(0) in the first answer
            class_grading.submission(course, ASSIGNMENT, student, "broken", 1)
        else:
            class_grading.submission(course, ASSIGNMENT, student, kind, 0)   # broken, number 0: not JSON
    classroom.run([sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT], course)
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if not (classroom.REPO / "source" / ASSIGNMENT).is_dir():
        pytest.skip("the course notebooks are not written yet")
    return _graded_course(tmp_path_factory.mktemp("report"))


def _exercises(course):
    """{solution grade_id: (exercise, function)} from the instructor's test cells."""
    import nbformat
    (path,) = (Path(course) / "source" / ASSIGNMENT).glob("*.ipynb")
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        for call in grade_calls(cell.source) if cell.cell_type == "code" else []:
            found.setdefault(call.function, (call.exercise, call.function))
    # the by-hand task is no exercise of gradelib.check: its verdicts are marked, not checked
    return {g: found[classroom.function_name(src)] for g, src in classroom.source_solutions(course, ASSIGNMENT).items()
            if classroom.function_name(src) in found}


def _submitted_source(course, kind):
    """{solution grade_id: the function's source as this kind of student submitted it} (None: not graded)."""
    right = classroom.source_solutions(course, ASSIGNMENT)
    if kind in NOT_COUNTED:
        return None
    if kind == "hand_z_slip":
        return _hand_z_slip(right)
    if kind == "correct":
        return right
    if kind in ("wrong", "tampered_transformer"):   # the tamper lines do not change what the function returns
        return {g: classroom.wrong(v) for g, v in right.items()}
    if kind == "unanswered":
        _, nb = classroom.release(course, ASSIGNMENT)
        return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") in right}
    return dict(right, **class_grading.PLANTED[ASSIGNMENT][kind])


def _by_hand(source, student):
    """(labels, sentences) of a by-hand page as the grader marks it: on the numbers of the student graded."""
    from gradelib import byhand
    from gradelib.byhand.reading import answers_of
    from gradelib.grading.judge.hand import first_wrong_why
    from gradelib.student import Problem
    problem = byhand.problem("single_neuron", student)
    ns = {"gradelib": gradelib, "byhand": byhand, "my_problem": problem}
    exec(source, ns)
    try:
        marking = byhand.mark(problem, answers_of(ns[BY_HAND], BY_HAND))
    except Problem as p:   # a page that gave no values (blank, or raising): unanswered, not a slip at a step
        return [p.mistake], [p.sentence]
    return ([f"by_hand:{marking.first_wrong}"], [first_wrong_why(marking)]) if marking.first_wrong else ([], [])


def expected(course):
    """What was planted, judged by gradelib.check itself (the by-hand page by gradelib's marker):
    {student: {exercise: (labels, sentences)}}."""
    names = _exercises(course)
    out = {}
    for student, kind in zip(STUDENTS, CLASS):
        sources = _submitted_source(course, kind)
        if sources is None:
            continue
        out[student] = {BY_HAND: _by_hand(sources[BY_HAND], student)} if BY_HAND in sources else {}
        for grade_id, (exercise, function) in names.items():
            ns = {}
            exec(sources[grade_id], ns)
            result = gradelib.check(exercise, ns[function], reveal=False)
            out[student][exercise] = ([] if result.passed else result.mistakes, result.messages)
    return out


def _csv(path):
    return list(csv.DictReader(io.StringIO(Path(path).read_text())))


def test_every_planted_mistake_is_counted_with_its_share(course):
    planted = expected(course)
    written = report.make(course, ASSIGNMENT)
    rows = _csv(written.csv)
    graded = len(planted)
    assert graded == len(STUDENTS) - sum(CLASS.count(k) for k in NOT_COUNTED)
    # the planted mistakes were really recognised as mistakes, and told apart
    for kind in class_grading.PLANTED[ASSIGNMENT]:
        student = STUDENTS[CLASS.index(kind)]
        assert any(labels for labels, _ in planted[student].values()), kind
    assert planted[STUDENTS[CLASS.index("forgot_relu")]]["single_neuron"][0] != \
        planted[STUDENTS[CLASS.index("factor_2")]]["single_neuron"][0]

    counts, sentences, passed = Counter(), {}, Counter()
    for student, by_exercise in planted.items():
        for exercise, (labels, messages) in by_exercise.items():
            passed[exercise] += not labels
            for label, message in zip(labels, messages):
                counts[(exercise, label)] += 1
                sentences.setdefault((exercise, label), set()).add(message)
    mistakes = {k: n for k, n in counts.items() if k[1] not in GAPS}
    unanswered = {k: n for k, n in counts.items() if k[1] in NOT_ATTEMPTED}
    assert set(mistakes) | set(unanswered) == set(counts)   # every function of the class was judged
    found = {(r["exercise"], r["label"]): r for r in rows if r["section"] == "mistake"}
    assert set(found) == set(mistakes)   # every planted mistake, and nothing that was not planted
    gaps = {(r["exercise"], r["label"]): r for r in rows if r["section"] == "not answered"}
    assert set(gaps) == set(unanswered) and not [r for r in rows if r["section"] == "not judged"]
    for key, n in counts.items():
        row = found.get(key) or gaps[key]
        assert int(row["students"]) == n and int(row["of"]) == graded, key
        assert float(row["share"]) == pytest.approx(n / graded, abs=1e-4), key
        assert row["sentence"] in sentences[key], key   # the sentence gradelib gives, in the notes' words
    for r in rows:
        if r["section"] == "passed":
            assert int(r["students"]) == passed[r["exercise"]] and int(r["of"]) == graded, r

    # mistakes that travel together, by the report's rule, from what was planted
    made = {s: {(e, label) for e, (labels, _) in ex.items() for label in labels if label not in NOT_ATTEMPTED}
            for s, ex in planted.items()}
    pairs = Counter(p for keys in made.values() for p in combinations(sorted(keys), 2) if p[0][0] != p[1][0])
    want = {p: n for p, n in pairs.items() if n >= MIN_TOGETHER}
    got = {((r["exercise"], r["label"]), (r["with_exercise"], r["with_label"])): int(r["students"])
           for r in rows if r["section"] == "together"}
    assert got == want
    relu = {p: n for p, n in got.items() if p[0][1] == p[1][1] == "missing_relu_derivative"}
    assert list(relu.values()) == [CLASS.count("forgot_relu")]

    # the broken submission is listed as not graded, the tampered one as flagged; no names anywhere
    reasons = {r["section"]: r for r in rows if r["section"] in ("not graded", "flagged")}
    assert "not valid JSON" in reasons["not graded"]["sentence"]
    assert "flagged" in reasons
    page = Path(written.html).read_text()
    text = page + Path(written.csv).read_text()
    assert not any(s in text for s in STUDENTS)
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    for exercise, label in counts:   # in words, with the identifier beside a mistake's words
        assert html.escape(title(label, exercise)) in page and (label in page or label in GAPS), label


def test_a_blank_by_hand_page_is_unanswered_and_a_real_first_step_slip_keeps_its_own_row(course):
    planted = expected(course)
    blank, slip = STUDENTS[CLASS.index("unanswered")], STUDENTS[CLASS.index("hand_z_slip")]
    first = f"by_hand:{gradelib.byhand.steps('single_neuron')[0].key}"
    assert planted[blank][BY_HAND][0] == ["not_implemented"] and planted[slip][BY_HAND][0] == [first]
    at_first = [s for s, ex in planted.items() if ex.get(BY_HAND, ([], []))[0] == [first]]
    blanks = [s for s, ex in planted.items() if ex.get(BY_HAND, ([], []))[0] == ["not_implemented"]]
    assert slip in at_first and blank in blanks and not set(at_first) & set(blanks)
    rows = [r for r in _csv(report.make(course, ASSIGNMENT, names=True).csv)
            if r["exercise"] == BY_HAND and r["section"] != "together"]
    (step,) = [r for r in rows if r["label"] == first]
    assert step["section"] == "mistake" and step["names"].split("; ") == sorted(at_first)   # no blank page in it
    assert step["sentence"] in {planted[s][BY_HAND][1][0] for s in at_first} and "not written" not in step["sentence"]
    (blank_row,) = [r for r in rows if r["label"] == "not_implemented"]
    assert blank_row["section"] == "not answered" and blank_row["names"].split("; ") == sorted(blanks)


def test_not_answered_is_never_ranked_with_the_mistakes(course):
    page = Path(report.make(course, ASSIGNMENT).html).read_text()
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    assert charts and not any("not answered" in c.lower() or "not judged" in c.lower() for c in charts)
    assert "Not answered (not written yet)" in page   # shown, apart from the bars, in words


def test_a_crashed_notebook_is_one_submission_to_look_at_said_for_the_teacher(course):
    crashed = STUDENTS[CLASS.index("crashed")]
    (record,) = [r for r in verdicts.load(Path(course) / verdicts.STORE_NAME, ASSIGNMENT).records
                 if r.student == crashed]
    assert any(nb.stopped for nb in record.notebooks)   # the verifier kept why its re-run stopped
    figures = tally(verdicts.load(Path(course) / verdicts.STORE_NAME, ASSIGNMENT).records)
    assert not any(crashed in m.students for e in figures.exercises for m in e.mistakes + e.gaps)
    assert not any(crashed in e.graded for e in figures.exercises)
    (entry,) = [a for a in figures.attention if crashed in a.students]   # one entry, not one per reason
    assert "died" in entry.reason and "your notebook" not in entry.reason, entry.reason
    rows = _csv(report.make(course, ASSIGNMENT, names=True).csv)
    assert [r["section"] for r in rows if crashed in r["names"].split("; ") and r["section"] not in
            ("counted", "not counted", "passed")] == ["graded but not judged"]


def test_the_counts_add_up_where_the_teacher_reads_them(course):
    written = report.make(course, ASSIGNMENT)
    rows, page = _csv(written.csv), Path(written.html).read_text()
    total, counted = len(STUDENTS), len(STUDENTS) - sum(CLASS.count(k) for k in NOT_COUNTED)
    (row,) = [r for r in rows if r["section"] == "counted"]
    assert (int(row["students"]), int(row["of"])) == (counted, total)
    assert sum(int(r["students"]) for r in rows if r["section"] == "not counted") == total - counted
    heading = page[page.index("<h2>"):page.index('<div class="ex">')]
    assert f"({total} submissions)" in heading and f"{counted} of the {total} submissions" in heading
    assert "could not be graded" in heading and "could not be judged" in heading   # why, right at the heading
    # each exercise: passed + with a mistake + not answered + not judged = its count
    for ex in tally(verdicts.load(Path(course) / verdicts.STORE_NAME, ASSIGNMENT).records).exercises:
        groups = [ex.passed, ex.mistaken, ex.unanswered, ex.unjudged]
        assert sorted(s for g in groups for s in g) == ex.graded and len(ex.graded) == counted, ex.exercise
    # the bars say the mistakes in words, and every column of every table has a header
    for label in re.findall(r"<text x=\"0\"[^>]*>\d+\. ([^<]*)</text>", page):
        assert "_" not in label, label
    rechecked = re.findall(r"re-checked outside it: ([^<]*)</li>", page)   # the tampered one's wrong functions
    assert rechecked and not any("_" in r for r in rechecked), rechecked
    for table in re.findall(r"<table>.*?</table>", page, re.S):
        head, *body = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        headers = re.findall(r"<th scope=\"col\">([^<]+)</th>", head)
        assert headers and all(h.strip() for h in headers)
        assert all(len(re.findall(r"<td[ >]", r)) == len(headers) for r in body)


def test_names_only_when_asked_and_a_regrade_counts_once(course, tmp_path):
    before = Path(report.make(course, ASSIGNMENT, out=tmp_path / "a").csv).read_text()
    named = report.make(course, ASSIGNMENT, names=True, out=tmp_path / "b")
    assert all(s in Path(named.csv).read_text() for s in STUDENTS)   # passed, mistaken, not graded
    assert all(s in Path(named.html).read_text() for s, kind in zip(STUDENTS, CLASS) if kind != "correct")
    again = STUDENTS[CLASS.index("forgot_relu")]
    classroom.run([sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT, "--student", again], course)
    after = Path(report.make(course, ASSIGNMENT, out=tmp_path / "c").csv).read_text()
    assert after == before


def test_plain_nbgrader_autograde_keeps_the_verdicts_in_the_graders_process(course, tmp_path):
    plain = classroom.copy_course(course, tmp_path / "plain", timeout=30)
    (plain / verdicts.STORE_NAME).unlink()
    student = STUDENTS[CLASS.index("ascent")]
    classroom.run(classroom.nbgrader("autograde", ASSIGNMENT, "--student", student, "--force"), plain)
    loaded = verdicts.load(plain / verdicts.STORE_NAME, ASSIGNMENT)
    assert [r.student for r in loaded.records] == [student]
    figures = tally(loaded.records)
    by_exercise = {e.exercise: e for e in figures.exercises}
    assert [m.label for m in by_exercise["single_neuron_update"].mistakes] == \
        expected(course)[student]["single_neuron_update"][0]
    assert by_exercise["single_neuron"].passed == [student]


# ------------------------------------------------------------------ bad input: a sentence, never a traceback
def _course_without_grading(root):
    root.mkdir()
    (root / "nbgrader_config.py").write_text(classroom.course_config())
    return root


def test_bad_input_gets_a_sentence(tmp_path, capsys):
    assert report.main(["--course", str(tmp_path / "nowhere")]) == 1
    assert "not a course folder" in capsys.readouterr().err
    course = _course_without_grading(tmp_path / "c")
    assert report.main(["--course", str(course)]) == 1
    assert "no gradebook" in capsys.readouterr().err
    sqlite3.connect(course / "gradebook.db").close()
    assert report.main(["--course", str(course), ASSIGNMENT]) == 1
    assert "no store of verdicts" in capsys.readouterr().err
    verdicts.replace(course / verdicts.STORE_NAME, "other", "s1", [verdicts.NotebookRecord("nb")])
    assert report.main(["--course", str(course), ASSIGNMENT]) == 1
    err = capsys.readouterr().err
    assert "has not been graded" in err and "Traceback" not in err
    (course / verdicts.STORE_NAME).write_bytes(b"not a database at all" * 100)
    assert report.main(["--course", str(course)]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "Traceback" not in err


def test_a_damaged_row_is_left_out_with_a_sentence(tmp_path):
    path = tmp_path / verdicts.STORE_NAME
    good = verdicts.NotebookRecord("nb", [verdicts.Verdict("t1", "single_neuron", "f", True, True)])
    verdicts.replace(path, "a1", "s1", [good])
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO records VALUES ('a1', 's2', 'nb', '{not json')")
    loaded = verdicts.load(path)
    assert [r.student for r in loaded.records] == ["s1"] and len(loaded.skipped) == 1
    assert "s2" not in loaded.skipped[0]   # no names in what the page shows


def test_replacing_a_students_records_never_counts_twice(tmp_path):
    path = tmp_path / verdicts.STORE_NAME
    wrong = verdicts.Verdict("t1", "single_neuron", "f", False, False, mistakes=["factor_2"], sentences=["x"])
    right = verdicts.Verdict("t1", "single_neuron", "f", True, True)
    failed = verdicts.NotebookRecord(verdicts.WHOLE, status="failed", reason="not JSON")
    verdicts.replace(path, "a1", "s1", [failed])
    verdicts.replace(path, "a1", "s1", [verdicts.NotebookRecord("nb", [wrong])], whole=False)  # autograde
    verdicts.replace(path, "a1", "s1", [verdicts.NotebookRecord("nb", [wrong])], whole=False)
    (record,) = verdicts.load(path).records
    assert record.status == "graded" and len(record.notebooks) == 1
    verdicts.replace(path, "a1", "s1", [verdicts.NotebookRecord("nb", [right])])                # classgrade
    (ex,) = tally(verdicts.load(path).records).exercises
    assert ex.passed == ["s1"] and ex.mistakes == []


def test_the_verifier_names_the_mistake_of_a_failed_cell_and_says_why_when_it_cannot():
    from gradelib.grading.sandbox import isolate
    from gradelib.grading.preprocess.conclude import KERNEL_ONLY, verdicts_of
    from gradelib.grading.preprocess.probes import Planned, Probe
    (call,) = grade_calls('gradelib.grade("single_neuron", single_neuron_gradients)')
    planned = Planned(3, "test_sn", [Probe("test_sn#0", call, 0, False)], kernel_passed=False)
    unwritten = {"calls": [{"problem": ["not_implemented", "single_neuron_gradients() is not written yet"]}],
                 "asked": False}
    (v,) = verdicts_of(planned, isolate.Run(probes={"test_sn#0": unwritten}, finished=True))
    assert (v.passed, v.judged, v.mistakes) == (False, True, ["not_implemented"])
    (v,) = verdicts_of(planned, isolate.Run(finished=False, reason="it did not finish within 20 seconds"))
    assert (v.passed, v.judged, v.reason) == (False, False, "it did not finish within 20 seconds")
    from gradelib.grading.judge import verdict
    right = classroom.source_solutions(classroom.REPO, ASSIGNMENT)["single_neuron_gradients"]
    ns = {}
    exec(right, ns)
    pts = verdict.questions("single_neuron", 0)["calls"]
    answers = [ns["single_neuron_gradients"](tuple(c[0]), dict(c[1]), c[2]) for c in pts]
    record = {"calls": [{"values": [a[k] for k in ("w1", "w2", "b")]} for a in answers], "asked": False}
    (v,) = verdicts_of(planned, isolate.Run(probes={"test_sn#0": record}, finished=True))
    assert (v.passed, v.judged, v.mistakes, v.reason) == (False, True, [], KERNEL_ONLY)


def test_unanswered_and_unjudged_functions_never_travel_together():
    from gradelib.grading.report.tally import NOT_JUDGED
    records = []
    for s in ("s1", "s2", "s3"):
        found = [verdicts.Verdict("t1", "single_neuron", "f", False, False, mistakes=["not_implemented"],
                                  sentences=["not written yet"]),
                 verdicts.Verdict("t2", "single_neuron_update", "g", False, False, judged=False, reason="off")]
        records.append(verdicts.SubmissionRecord("a1", s, [verdicts.NotebookRecord("nb", found)]))
    t = tally(records)
    assert t.together == []
    (first, second) = t.exercises
    assert first.mistakes == [] and second.mistakes == []   # never ranked as misconceptions
    assert [(m.label, len(m.students), m.share) for m in first.gaps] == [("not_implemented", 3, 1.0)]
    assert [(m.label, m.sentence) for m in second.gaps] == [(NOT_JUDGED, "off")]
    assert (first.unanswered, second.unjudged) == (["s1", "s2", "s3"], ["s1", "s2", "s3"])


def test_a_stopped_rerun_is_one_entry_for_the_teacher_and_no_bar():
    """On records alone (the course test plants a real crash): one dead process, two exercises, two notes."""
    from gradelib.grading.sandbox.isolate import _exit_reason
    died = _exit_reason(0)
    assert "died" in died
    dead = [verdicts.Verdict(f"t{i}", ex, "f", False, False, judged=False, reason=died)
            for i, ex in enumerate(("single_neuron", "single_neuron_update"))]
    notes = {"t9": [f"could not be marked: gradelib could not re-run your notebook to read your values: {died}."]}
    wrong = verdicts.Verdict("t0", "single_neuron", "f", False, False, mistakes=["factor_2"], sentences=["x"])
    records = [verdicts.SubmissionRecord("a1", "s1", [verdicts.NotebookRecord(
                   "nb", dead, flags=["cell 3, line 1: ends the process (os._exit)"], review=notes, stopped=died)]),
               verdicts.SubmissionRecord("a1", "s2", [verdicts.NotebookRecord("nb", [wrong])])]
    t = tally(records)
    assert [(e.exercise, e.graded, [m.label for m in e.mistakes + e.gaps]) for e in t.exercises] == \
        [("single_neuron", ["s2"], ["factor_2"])]
    (entry,) = t.attention
    assert entry.students == ["s1"] and len(entry.reasons) == 2 and "your notebook" not in entry.reason
    assert died in entry.reason and "None of its functions could be judged" in entry.reason
    assert (t.counted["a1"], [(u.why, u.students) for u in t.uncounted["a1"]]) == \
        (["s2"], [("could not be judged (gradelib's re-run of the notebook stopped)", ["s1"])])


def test_mistakes_and_parameters_in_words_a_teacher_reads():
    from gradelib.exercises import lookup
    from gradelib.grading.report.page import parameter_summary
    assert title("missing_relu_derivative") == "Missing ReLU derivative"
    assert title("delta2_no_relu_prime") == "δ2 without ReLU′" and title("eta_twice") == "η twice"
    assert title("factor_2") == "Twice the right value"   # diagnose's own word for the factor
    assert title("not_implemented").startswith("Not answered")
    step = gradelib.byhand.steps("relu_chain")[0]
    assert title(f"by_hand:{step.key}", "relu_chain_by_hand").startswith(f"By hand: {step.name} (")
    net = lookup("softmax_223").network
    assert parameter_summary("softmax_223", {p: 5 for p in net.params}) == \
        f"all {len(net.params)} (5 students each)"
    output = [p for p in net.params if p not in net.hidden_params]
    assert parameter_summary("softmax_223", dict({p: 2 for p in output}, W13=2)) == \
        f"all {len(output)} of the output layer, W13 (2 students each)"
    assert parameter_summary("single_neuron", {"w1": 1, "b": 3}) == "w1 (1 student), b (3 students)"


def test_a_fault_in_naming_a_failed_cells_mistake_stops_nothing(monkeypatch):
    import logging
    from gradelib.grading.sandbox import isolate
    from gradelib.grading.judge import verdict
    from gradelib.grading.preprocess.conclude import Recorder, Report
    from gradelib.grading.preprocess.probes import Planned, Probe

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a case the diagnosis does not handle")
    monkeypatch.setattr(verdict, "judge", broken)
    (call,) = grade_calls('gradelib.grade("single_neuron", single_neuron_gradients)')
    v = Recorder(Report(), "s/a/nb", logging.getLogger("test"))   # what the verifier concludes into
    v.conclude(None, Planned(3, "t", [Probe("t#0", call, 0, False)], False), isolate.Run(finished=True))
    (found,) = v.report.verdicts
    assert not found.judged and "ZeroDivisionError" in found.reason
