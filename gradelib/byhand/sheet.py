"""The printable sheet of a personal problem: the numbers in the notes' symbols, the drawing, a box per step.

    s = sheet("softmax_223", "ada")
    s                       # shown in the notebook
    s.save("ada_223.html")  # a standalone page: open it in a browser and print it

The page is one file with nothing to fetch: its style and the drawing (an
inline SVG made by gradelib.draw.draw_network) are inside it, so it prints the
same offline.  Its bytes depend only on (network, student id) and the
installed matplotlib: the SVG is written with a fixed svg.hashsalt (the ids
matplotlib makes up inside the drawing) and without a date, so saving the
same sheet twice gives the same file, and a notebook that shows a sheet keeps
the same stored output (nbval compares it strictly).

The drawing shows the edges' weights and the inputs, but no forward value:
the sheet hands out the problem, never a step's answer.
"""

from __future__ import annotations

import html
import io
import os
from pathlib import Path
from typing import Any

from .personal import givens_html, problem, symbol_html
from .steps import graded_steps, steps

HASHSALT = "gradelib-byhand-sheet"  # any fixed text: it only has to be the same every time
# Where the steps' order is not the notes' own, and why (see gradelib.byhand.steps).
ORDER_NOTES = {
    "softmax_223": " The steps follow notes 002, except that every update comes after every gradient: "
    "notes 002 update the output layer before sending the error back to nodes 3 and 4, "
    "and dLoss/dY3 and dLoss/dY4 need the output weights from before that update."
}
TITLES = {
    "single_neuron": "One ReLU neuron (notes 000)",
    "relu_chain": "A chain of two ReLU neurons (notes 000)",
    "softmax_223": "The 2-2-3 softmax network (notes 002)",
}

# The sheet's rules, scoped to its own <div>: shown in a notebook, the sheet sits inside JupyterLab's page (and an
# nbconvert export's), whose body, headings and tables an unscoped rule would restyle.
STYLE = """
.gradelib-byhand-sheet { font-family: Georgia, 'Times New Roman', serif; max-width: 52em; color: #111; }
.gradelib-byhand-sheet h1 { font-size: 1.35em; margin-bottom: 0.2em; }
.gradelib-byhand-sheet .who { color: #444; margin-top: 0; }
.gradelib-byhand-sheet .givens td { padding: 1px 10px 1px 0; }
.gradelib-byhand-sheet .drawing svg { max-width: 100%; height: auto; }
.gradelib-byhand-sheet table.steps { border-collapse: collapse; width: 100%; }
.gradelib-byhand-sheet table.steps th, .gradelib-byhand-sheet table.steps td {
  border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: middle; }
.gradelib-byhand-sheet table.steps td.box { width: 9em; height: 1.9em; }
.gradelib-byhand-sheet table.steps tr { page-break-inside: avoid; }
.gradelib-byhand-sheet .how { font-size: 0.92em; color: #333; }
.gradelib-byhand-sheet code.key { font-size: 0.8em; color: #595959; margin-left: 0.6em; }   /* 7:1 on white: AA */
@media print { .gradelib-byhand-sheet .drawing svg { max-height: 9cm; } }
"""
PAGE_STYLE = """
body { margin: 1.5em auto; max-width: 52em; }
@media print { body { margin: 0.5cm; } }
"""  # the standalone page's own body: only html() has one


def drawing_svg(p: Any) -> str:
    """The network with this problem's inputs and weights (no forward values), as deterministic inline SVG."""
    import matplotlib  # here, not at the top: importing gradelib (the grader's harness does) needs no drawing

    from ..alt import figure_alt
    from ..draw import draw_network

    fig = draw_network(p.network, p.x, p.params, None)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": HASHSALT, "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return _with_alt(text[text.index("<svg") :], figure_alt(fig))  # no XML declaration or DOCTYPE inside HTML


def _with_alt(svg, alt):
    """The SVG as one picture with its text alternative: role="img", a <title> (its name: the drawing's words,
    since its text is drawn as paths and says nothing to a screen reader) first inside it."""
    start = svg.index(">", svg.index("<svg")) + 1
    return f'{svg[: start - 1]} role="img">\n<title>{html.escape(alt, quote=False)}</title>{svg[start:]}'


class Sheet:
    """A printable sheet: _repr_html_() for the notebook, html() for the standalone page, save(path) to write it."""

    def __init__(self, p, chosen=None):
        self.problem = p
        self.graded = graded_steps(p.network, chosen)  # the keys of the steps the page asks for

    def __repr__(self):  # the text a notebook stores beside the HTML: no address, so nbval can compare it
        return f"byhand.sheet({self.problem.network!r}, {self.problem.student_id!r})"

    def steps(self) -> list[Any]:
        """The graded steps, in order: the boxes of this sheet."""
        return [s for s in steps(self.problem.network, self.problem.target) if s.key in self.graded]

    def _left_out(self):
        """A sentence on the steps this sheet does not ask for, "" when it asks for every one."""
        every = steps(self.problem.network)
        if len(self.graded) == len(every):
            return ""
        return (
            f" This page asks for {len(self.graded)} of the {len(every)} steps; the others (the remaining "
            "gradients and updates) follow the same rules and are not graded."
        )

    def fragment(self) -> str:
        """The sheet's content, without the page around it."""
        p = self.problem
        rows = "".join(
            f'<tr><td>{i}</td><td>{symbol_html(s.name)} <code class="key">{html.escape(s.key)}</code></td>'
            f"<td>{html.escape(s.words)}</td>"
            f'<td class="box" data-key="{html.escape(s.key, quote=True)}"></td></tr>'
            for i, s in enumerate(self.steps(), 1)
        )
        return (
            f'<div class="gradelib-byhand-sheet">'
            f"<h1>Backpropagation by hand: {html.escape(TITLES[p.network])}</h1>"
            f'<p class="who">The numbers of student <b>{html.escape(p.student_id)}</b></p>'
            f"{givens_html(p)}"
            f'<div class="drawing">{drawing_svg(p)}</div>'
            f'<p class="how">Work out each step in this order, on paper, from your own earlier results; '
            f"write each value with at least two decimals (a rounded value counts as right: within 0.005, "
            f"or 1% for large values, of what your own earlier numbers give). A slip costs only its own "
            f"step when the steps after it follow correctly from it.{ORDER_NOTES.get(p.network, '')}"
            f"{self._left_out()} "
            f"Then check it with "
            f"<code>byhand.check_by_hand({p.network!r}, {html.escape(repr(p.student_id))}, answers)</code>.</p>"
            '<table class="steps"><tr><th>#</th><th>step (its key in answers)</th><th>what it is</th>'
            "<th>your value</th></tr>"
            f"{rows}</table></div>"
        )

    def _repr_html_(self):
        return f"<style>{STYLE}</style>{self.fragment()}"

    def html(self) -> str:
        """The standalone page."""
        p = self.problem
        title = html.escape(f"Backprop by hand: {p.network}, {p.student_id}")
        return (
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f"<style>{PAGE_STYLE}{STYLE}</style>\n</head>\n<body>\n{self.fragment()}\n</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Any:
        """Write the standalone page to path (UTF-8); returns the path."""
        path = Path(path)
        path.write_bytes(self.html().encode("utf-8"))
        return path


def sheet(network: str, student_id: str, steps: Any = None) -> Sheet:
    """The printable Sheet of this student's problem for network; ValueError with a sentence for a bad id.

    steps: the graded steps, as grade_by_hand takes them (None: the network's default).
    """
    return Sheet(problem(network, student_id), steps)
