"""VerifyGradelib and FlagForReview: the nbgrader preprocessors that re-check gradelib tests outside the kernel.

In ``Autograde.autograde_preprocessors``, VerifyGradelib goes after Execute and
before SaveAutoGrades, FlagForReview right after SaveAutoGrades:

1. What the instructor wrote decides everything: which cells are tests, which
   are given code and which exercise a test grades all come from nbgrader's
   gradebook (the cells saved by ``generate_assignment``), matched by grade_id;
   the submitted copy's metadata is repaired to match it, and a deleted test
   cell is put back, failed, with the reason.
2. For every test cell that calls ``gradelib.grade("<exercise>", <function>, ...)``
   and that the kernel scored as passed, the student's cells are run again in a
   fresh isolated process (gradelib.grading.isolate), the function is called
   there at the test's own points and at points drawn from a seed the student
   cannot know, and the plain numbers that come back are judged here
   (gradelib.grading.verdict).  If they are wrong, or cannot be obtained, the
   test cell gets an error output saying why, so SaveAutoGrades scores it 0.
3. Student cells are scanned for tampering (gradelib.grading.tamper); the test
   cells after a finding are marked for a manual look by FlagForReview.

The report (findings, verdicts, timings) goes to the grading log and to the
autograded notebook's metadata under "gradelib", which the class grading
command reads; students never see it.
"""
import ast
import hashlib
import os
import symtable
import time

import nbformat
from nbformat.notebooknode import NotebookNode
from traitlets import Float, Integer, Unicode

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from ..exercises import EXERCISES
from . import isolate, tamper, verdict
from .execute import error_output
from .sandbox import Sandbox

SECRET_SEED_BASE = 1_000_000   # grader-drawn seeds are far from the small seeds that notebooks use


# ---------------------------------------------------------------- the instructor's side
class InstructorCell:
    """One cell as nbgrader saved it from the source notebook."""

    def __init__(self, name, cell_type, locked, source, grade=False, solution=False, points=None, task=False):
        self.name, self.cell_type, self.locked, self.source = name, cell_type, locked, source or ""
        self.grade, self.solution, self.points, self.task = grade, solution, points, task

    def metadata(self):
        """The nbgrader metadata this cell has in a valid submission (schema 3)."""
        meta = {"schema_version": 3, "grade": self.grade, "solution": self.solution, "locked": self.locked,
                "grade_id": self.name, "cell_type": self.cell_type}
        if self.task:
            meta["task"] = True
        if self.grade:
            meta["points"] = self.points
        return meta

    @property
    def is_test(self):
        """An autograded test: a locked code cell with points that is not an answer."""
        return self.grade and not self.solution and self.cell_type == "code"


def instructor_cells(db_url, notebook_id, assignment_id):
    """{grade_id: InstructorCell} for one notebook of one assignment, read from the gradebook."""
    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook_id, assignment_id)
        grades = {c.name: c.max_score for c in nb.grade_cells}
        tasks = {c.name: c.max_score for c in nb.task_cells}
        solutions = {c.name for c in nb.solution_cells}
        return {c.name: InstructorCell(c.name, c.cell_type, bool(c.locked), c.source, c.name in grades,
                                       c.name in solutions, grades.get(c.name, tasks.get(c.name)), c.name in tasks)
                for c in nb.source_cells}


class GradeCall:
    """gradelib.grade("<exercise>", <function>, seed=..., reveal=...) as written in a test cell."""

    def __init__(self, exercise, function, seed, reveal):
        self.exercise, self.function, self.seed, self.reveal = exercise, function, seed, reveal


def grade_calls(source):
    """The gradelib.grade calls in an instructor's test cell; [] if it has none we can read."""
    tree = _parse(to_python(source))
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_grade(node.func) and len(node.args) >= 2):
            continue
        ex, fn = node.args[0], node.args[1]
        if not (isinstance(ex, ast.Constant) and ex.value in EXERCISES and isinstance(fn, ast.Name)):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        seed = kw.get("seed", ast.Constant(0))
        reveal = kw.get("reveal", ast.Constant(False))
        if not (isinstance(seed, ast.Constant) and type(seed.value) is int and isinstance(reveal, ast.Constant)):
            continue
        found.append(GradeCall(ex.value, fn.id, seed.value, bool(reveal.value)))
    return found


def _is_grade(func):
    return ((isinstance(func, ast.Attribute) and func.attr == "grade" and isinstance(func.value, ast.Name)
             and func.value.id == "gradelib") or (isinstance(func, ast.Name) and func.id == "grade"))


def _parse(source):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


_TRANSFORMER = None


def to_python(source):
    """A cell's source as plain Python: IPython's own transformation of magics and shell escapes."""
    global _TRANSFORMER
    if "%" not in source and "!" not in source and "?" not in source:
        return source
    if _TRANSFORMER is None:
        from IPython.core.inputtransformer2 import TransformerManager
        _TRANSFORMER = TransformerManager()
    try:
        return _TRANSFORMER.transform_cell(source)
    except Exception:
        return source


# ---------------------------------------------------------------- which cells the verifier runs
def names(source):
    """(names the cell reads from the notebook's globals, names it binds or changes there)."""
    try:
        top = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set(), set()
    used, bound = set(), set()
    for s in top.get_symbols():
        if s.is_referenced():
            used.add(s.get_name())
        if s.is_assigned() or s.is_imported():
            bound.add(s.get_name())
    todo = list(top.get_children())
    while todo:
        t = todo.pop()
        for s in t.get_symbols():
            if s.is_global() and s.is_referenced():
                used.add(s.get_name())
            if s.is_declared_global() and s.is_assigned():
                bound.add(s.get_name())
        todo += t.get_children()
    tree = _parse(source)
    for node in (tree.body if tree else []):
        if isinstance(node, (ast.ImportFrom,)) and any(a.name == "*" for a in node.names):
            bound.add("*")
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for t in targets:
            while isinstance(t, (ast.Attribute, ast.Subscript)):   # params["w1"] = ... changes params
                t = t.value
            if isinstance(t, ast.Name):
                bound.add(t.id)
    return used, bound


def units(source):
    """A cell's top-level statements as [(source, used, bound)], an import split name by name.

    The unit of slicing: from ``from gradelib.draw import draw_network, new_figure``
    a function that needs neither name costs no import of matplotlib.
    """
    tree = _parse(source)
    if tree is None:
        return [(source, *names(source))]
    found = []
    for node in tree.body:
        parts = [node]
        if isinstance(node, (ast.Import, ast.ImportFrom)) and len(node.names) > 1:
            parts = [type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": [a]}) for a in node.names]
        for part in parts:
            text = ast.unparse(part)
            found.append((text, *names(text)))
    return found


def slice_given(student_sources, given, probe_functions):
    """{index: source}: the statements of the given (instructor) cells that the student's code needs.

    given: [(index, source)].  A statement is needed when it binds (or changes)
    a name that the student's cells, a needed statement or a tested function
    reads.  Cells that only draw, train or show a widget bind nothing the
    student's functions read, so the verifier does not run them.
    """
    needed = set(probe_functions)
    for source in student_sources:
        needed |= names(source)[0]
    pieces = {(i, j): unit for i, src in given for j, unit in enumerate(units(src))}
    chosen, changed = set(), True
    while changed:
        changed = False
        for key, (_, used, bound) in pieces.items():
            if key not in chosen and (bound & needed or "*" in bound):
                chosen.add(key)
                needed |= used
                changed = True
    out = {}
    for i, j in sorted(chosen):
        out[i] = out[i] + "\n" + pieces[(i, j)][0] if i in out else pieces[(i, j)][0]
    return out


# ---------------------------------------------------------------- the preprocessors
class VerifyGradelib(NbGraderPreprocessor):
    """Re-check, outside the kernel, every gradelib test cell the kernel passed (see the module docstring)."""

    cell_timeout = Integer(
        None, allow_none=True,
        help="Seconds per cell in the verifier's process; by default Execute.timeout (or 60).").tag(config=True)
    total_timeout = Float(300.0, help="Seconds the verifier's process may run in all.").tag(config=True)
    memory_limit = Integer(2 * 1024 ** 3, help="Bytes of address space for the verifier's process.").tag(config=True)
    seed_key = Unicode(
        "", help="Secret for the grader's seeds; by default a hash of the instructor's cells, "
                 "which students never see (they include the solutions and hidden tests).").tag(config=True)

    def preprocess(self, nb, resources):
        start = time.monotonic()
        info = resources["nbgrader"]
        self.where = f"{info['student']}/{info['assignment']}/{info['notebook']}"
        self.report = {"verified": [], "failed": [], "unverifiable": [], "flags": [], "review": {},
                       "repaired": []}
        try:
            cells = instructor_cells(info["db_url"], info["notebook"], info["assignment"])
        except MissingEntry:
            self.log.warning("%s: the notebook is not in the gradebook; nothing to verify", self.where)
            return nb, resources
        self.cells = cells
        edited = self._edited_locked(info)
        self._repair(nb, info)
        self._scan(nb, edited)
        self._verify(nb, resources, info)
        self.report["seconds"] = round(time.monotonic() - start, 3)
        nb.metadata["gradelib"] = self.report
        resources.setdefault("gradelib", {})["review"] = self.report["review"]
        return nb, resources

    # ---- cells and their roles, from the instructor's side
    def role(self, cell):
        """'test', 'given', 'student' or None (not code), decided by the gradebook."""
        if cell.cell_type != "code":
            return None
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        known = self.cells.get(grade_id)
        if known is None or known.cell_type != "code":
            return "student"
        if known.is_test:
            return "test"
        if known.locked and not known.solution:
            return "given"
        return "student"

    def source_of(self, cell):
        """The code to run: the instructor's own text for given and test cells, the student's otherwise."""
        known = self.cells.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if known is not None and known.locked and not known.solution:
            return known.source
        return cell.source

    def _repair(self, nb, info):
        """Make every cell's nbgrader metadata what the gradebook says, and put back deleted tests."""
        present = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            known = self.cells.get(meta.get("grade_id")) if isinstance(meta, dict) else None
            if known is None:
                if meta:
                    self.report["repaired"].append("removed the nbgrader metadata of a cell the gradebook "
                                                   "does not know")
                cell.metadata.pop("nbgrader")
                continue
            present.add(known.name)
            want = {"grade": known.grade, "solution": known.solution, "locked": known.locked}
            for key, value in want.items():
                if bool(meta.get(key, False)) != value:
                    self.report["repaired"].append(f"{known.name}: {key} set back to {value}")
                    meta[key] = value
            if known.grade and meta.get("points") != known.points:
                meta["points"] = known.points
        order = self._source_order(info)
        for name, known in self.cells.items():
            if known.is_test and name not in present:
                self._put_back(nb, known, order)
                self.report["repaired"].append(f"{name}: deleted test cell put back, scored 0")

    def _source_order(self, info):
        """grade_ids in the source notebook's order (the instructor's file), or [] without it."""
        try:
            coursedir = CourseDirectory(parent=self)
            path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]),
                                info["notebook"] + ".ipynb")
            source = nbformat.read(path, as_version=4)
        except Exception:
            return []
        return [c.metadata.get("nbgrader", {}).get("grade_id") for c in source.cells]

    def _put_back(self, nb, known, order):
        cell = nbformat.v4.new_code_cell(known.source)
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": known.name,
                                     "points": known.points, "schema_version": 3}
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False
        cell.outputs = [error_output("MissingCell", "This test cell was missing from the submitted notebook "
                                                    "(deleted?), so its tests could not run: 0 points.")]
        position = len(nb.cells)
        if known.name in order:
            before = order[:order.index(known.name)]
            ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
            for name in reversed(before):
                if name in ids:
                    position = ids.index(name) + 1
                    break
        nb.cells.insert(position, cell)

    # ---- tampering
    def _edited_locked(self, info):
        """grade_ids of locked cells whose submitted text or nbgrader metadata differ from the released copy.

        nbgrader silently restores such cells; an honest student cannot edit them
        in the notebook interface, so a difference is worth a look.
        """
        try:
            coursedir = CourseDirectory(parent=self)
            name = info["notebook"] + ".ipynb"
            released = nbformat.read(os.path.join(coursedir.format_path(
                coursedir.release_directory, ".", info["assignment"]), name), as_version=4)
            submitted = nbformat.read(os.path.join(coursedir.format_path(
                coursedir.submitted_directory, info["student"], info["assignment"]), name), as_version=4)
        except Exception:
            return []
        handed_out = {}
        for cell in released.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in self.cells and self.cells[grade_id].locked and not self.cells[grade_id].solution:
                handed_out[grade_id] = _checksum(cell)
        edited = []
        for cell in submitted.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in handed_out and _checksum(cell) != handed_out[grade_id] and grade_id not in edited:
                edited.append(grade_id)
        return edited

    def _scan(self, nb, edited=()):
        code = [(i, to_python(self.source_of(c))) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        aliases = tamper.module_aliases(src for _, src in code)
        student = [(i, src) for i, src in code if self.role(nb.cells[i]) == "student"]
        findings = tamper.scan(student, aliases)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        for grade_id in edited:
            at = ids.index(grade_id) if grade_id in ids else len(ids)
            findings.append(tamper.Finding(at, 0, f"changed the locked cell {grade_id!r} "
                                                  "(nbgrader put the original back)"))
        tests = [i for i, c in enumerate(nb.cells) if self.role(c) == "test"]
        for f in findings:
            self.log.warning("%s: possible tampering in %s", self.where, f)
            self.report["flags"].append(str(f))
            # a kernel trick changes what every later test sees, so each of them gets a look
            later = [i for i in tests if i >= f.cell] or tests[-1:]
            for i in later:
                grade_id = nb.cells[i].metadata["nbgrader"]["grade_id"]
                self.report["review"].setdefault(grade_id, []).append(str(f))

    # ---- verification
    def _verify(self, nb, resources, info):
        plan = []   # (cell index, grade_id, [(probe id, GradeCall, seed, reveal)])
        key = self._key()
        for i, cell in enumerate(nb.cells):
            if self.role(cell) != "test":
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            calls = grade_calls(self.cells[grade_id].source)
            if calls:
                _tidy_tracebacks(cell, {c.exercise for c in calls})
            if not calls or not self._kernel_passed(cell):
                continue
            probes, seen = [], set()
            for call in calls:
                for seed, reveal in ((call.seed, call.reveal), (self._secret_seed(key, info, grade_id, call), False)):
                    if (call.exercise, call.function, seed) in seen:
                        continue
                    seen.add((call.exercise, call.function, seed))
                    probes.append((f"{grade_id}#{len(probes)}", call, seed, reveal))
            plan.append((i, grade_id, probes))
        if not plan:
            return
        steps = self._steps(nb, plan)
        run = isolate.run(steps, self._limits(), files_from=self._support_dir(info), box=Sandbox(parent=self))
        self.report["verifier_seconds"] = round(run.seconds, 3)
        if not run.finished:
            self.log.warning("%s: the verifier's process did not finish: %s %s", self.where, run.reason,
                             run.stderr_tail)
        for i, grade_id, probes in plan:
            self._conclude(nb.cells[i], grade_id, probes, run)

    def _kernel_passed(self, cell):
        try:
            score, _ = utils.determine_grade(cell, self.log)
        except Exception:
            return False
        return bool(score)

    def _steps(self, nb, plan):
        last = plan[-1][0]
        at = {i: probes for i, _, probes in plan}
        student, given = [], []
        for i, cell in enumerate(nb.cells[:last]):
            role = self.role(cell)
            if role == "student":
                student.append((i, to_python(cell.source)))
            elif role == "given":
                given.append((i, to_python(self.source_of(cell))))
        functions = {call.function for _, _, probes in plan for _, call, _, _ in probes}
        chosen = slice_given([src for _, src in student], given, functions)
        cells = sorted(student + list(chosen.items()))
        steps, k = [], 0
        for i in range(last + 1):
            while k < len(cells) and cells[k][0] == i:
                steps.append({"cell": i, "source": cells[k][1]})
                k += 1
            for pid, call, seed, _ in at.get(i, ()):
                steps.append(dict(verdict.questions(call.exercise, seed), probe=pid, function=call.function))
        return steps

    def _limits(self):
        cell = self.cell_timeout
        if cell is None:
            cell = getattr(self.config, "Execute", {}).get("timeout", 60) or 60
        return isolate.Limits(cell_seconds=float(cell), total_seconds=float(self.total_timeout),
                              memory_bytes=int(self.memory_limit))

    def _support_dir(self, info):
        try:
            coursedir = CourseDirectory(parent=self)
            path = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
            return path if os.path.isdir(path) else None
        except Exception:
            return None

    def _key(self):
        if self.seed_key:
            return self.seed_key.encode()
        h = hashlib.sha256()
        for name in sorted(self.cells):
            h.update(name.encode() + b"\0" + self.cells[name].source.encode() + b"\0")
        return h.digest()

    @staticmethod
    def _secret_seed(key, info, grade_id, call):
        text = "\0".join([info["student"], info["assignment"], info["notebook"], grade_id, call.exercise,
                          call.function]).encode()
        digest = hashlib.sha256(key + b"\0" + text).digest()
        return SECRET_SEED_BASE + int.from_bytes(digest[:4], "big")

    def _conclude(self, cell, grade_id, probes, run):
        failure = None
        for pid, call, seed, reveal in probes:
            try:
                result = verdict.judge(call.exercise, seed, run.probes.get(pid), f"{call.function}()", reveal)
            except verdict.Unverifiable as why:
                reason = run.reason or str(why)
                failure = failure or ("unverifiable", call, reason)
                continue
            if not result.passed and (failure is None or failure[0] == "unverifiable"):
                failure = ("wrong", call, result)
        if failure is None:
            self.report["verified"].append(grade_id)
            return
        kind, call, detail = failure
        if kind == "wrong":
            self.report["failed"].append(grade_id)
            self.report["review"].setdefault(grade_id, []).append(
                "passed in the kernel but not when re-checked outside it: " + ", ".join(detail.mistakes))
            self.log.warning("%s: %s passed in the kernel but not in the verifier: %s", self.where, grade_id,
                             "; ".join(detail.mistakes))
            message = (f"The test passed inside the notebook's kernel, but gradelib re-ran your cells in a "
                       f"separate, fresh Python process and called {call.function}() there, at test points "
                       f"chosen by the grader. There it is not right:\n{detail}\n"
                       "Only what your function returns counts: nothing else in the notebook can change this check.")
            fail_cell(cell, error_output("VerificationFailed", message))
        else:
            self.report["unverifiable"].append(grade_id)
            self.report["review"].setdefault(grade_id, []).append(f"could not be verified: {detail}")
            self.log.warning("%s: %s could not be verified outside the kernel: %s", self.where, grade_id, detail)
            message = (f"gradelib could not re-check {call.function}() outside the notebook's kernel: {detail}. "
                       "A result that holds only inside the kernel cannot be trusted, so this test scores 0 "
                       "until an instructor has looked at it.")
            fail_cell(cell, error_output("VerificationFailed", message))


def _tidy_tracebacks(cell, exercises):
    """gradelib's AssertionError in a test cell, shown as its feedback alone, without gradelib's frames.

    The feedback is the point; the frames inside gradelib only push it out of view.
    """
    for out in cell.get("outputs", []):
        text = str(out.get("evalue", ""))
        if out.get("output_type") == "error" and out.get("ename") == "AssertionError" \
                and text.split(":")[0] in exercises:
            out["traceback"] = error_output("AssertionError", text)["traceback"]


def fail_cell(cell, error):
    """Put the error first, where nbgrader's determine_grade looks: it stops at the first
    error or execute_result, so a result the kernel printed must not come before it."""
    cell.outputs = [error] + [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]


def _checksum(cell):
    try:
        return utils.compute_checksum(cell)
    except Exception:
        return None


class FlagForReview(NbGraderPreprocessor):
    """After SaveAutoGrades: mark the test cells VerifyGradelib found reasons to look at as needing a manual grade.

    The score is not changed; the formgrader lists the cell as needing manual
    grading and the submission as flagged, and the reasons are in the grading log.
    """

    def preprocess(self, nb, resources):
        review = resources.get("gradelib", {}).get("review") or {}
        if not review:
            return nb, resources
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            for grade_id, reasons in review.items():
                try:
                    grade = gb.find_grade(grade_id, info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    continue
                grade.needs_manual_grade = True
            submission = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            submission.flagged = True
            gb.db.commit()
        self.log.warning("%s/%s/%s: %d test cell(s) flagged for a manual look", info["student"],
                         info["assignment"], info["notebook"], len(review))
        return nb, resources
