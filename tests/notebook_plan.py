"""Read a course notebook's file for what a run of it must show: used by test_browser.py and test_binder.py.

The notebooks follow nbgrader's doc style: a solution cell (metadata nbgrader.solution), then a self-check
cell calling gradelib.check(...), then a test cell (nbgrader.grade).  A self-check cell is the first code
cell after a solution cell, when it calls gradelib.check.
"""
import json
import re


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def plan(path):
    """{cells, solutions, checks, tests, images, first}: indices of the solution, self-check and test cells,
    of the cells whose stored outputs hold an image, and the first exercise as
    {solution, function, check, exercise} (None when the file has no exercise)."""
    cells = json.loads(path.read_text())["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    solutions = [i for i in code if nbgrader(cells[i]).get("solution")]
    tests = [i for i in code if nbgrader(cells[i]).get("grade")]
    checks = []
    for s in solutions:
        after = [i for i in code if i > s]
        if after and "gradelib.check(" in source(cells[after[0]]):
            checks.append(after[0])
    images = [i for i in code if any("image/png" in o.get("data", {}) for o in cells[i].get("outputs", []))]
    first = None
    if solutions and checks and checks[0] > solutions[0]:
        name = re.search(r"^def (\w+)\(", source(cells[solutions[0]]), re.M)
        exercise = re.search(r"gradelib\.check\(\s*[\"'](\w+)[\"']", source(cells[checks[0]]))
        if name and exercise:
            first = dict(solution=solutions[0], function=name.group(1), check=checks[0], exercise=exercise.group(1))
    return dict(cells=cells, solutions=solutions, checks=checks, tests=tests, images=images, first=first)
