"""The hand calculation as an ipywidgets form: one text box per step, and a Check button that marks it.

    f = form("relu_chain", "ada")
    f                 # shows the problem, the boxes and the button
    f.answers()       # {key: text} of the boxes that are filled in, for mark() or a graded cell

A box holds text, as typed: marking reads it (gradelib.byhand.reading), so
"3/4" or "0,25" gets its sentence there, and an empty box is left out of
answers() (a step not yet answered, not an unreadable one).
"""

from __future__ import annotations

import html
from typing import Any

from .marking import check_by_hand
from .personal import givens_html, problem, symbol_html
from .steps import graded_steps, steps

LABEL_WIDTH = "9em"


class Form:
    """A form for one student's problem: .widget (the ipywidgets box), .boxes ({key: Text}), .answers(), .check()."""

    def __init__(self, p, chosen=None):
        import ipywidgets as widgets  # here, not at the top: importing gradelib (the grader's harness does)

        self.problem = p  # needs no widgets
        self.chosen = chosen
        self.boxes = {}
        rows = []
        keys = graded_steps(p.network, chosen)
        for s in [s for s in steps(p.network, p.target) if s.key in keys]:
            # the step's symbol is the box's own <label> (description), so a screen reader names the box
            box = widgets.Text(
                placeholder=s.key,
                description=symbol_html(s.name),
                description_allow_html=True,
                style={"description_width": LABEL_WIDTH},
                layout=widgets.Layout(width=f"calc({LABEL_WIDTH} + 10em)"),
            )
            self.boxes[s.key] = box
            words = widgets.HTML(f'<span style="color:#555">{html.escape(s.words)}</span>')
            rows.append(widgets.HBox([box, words]))
        self.button = widgets.Button(description="Check", button_style="primary")
        self.output = widgets.Output()
        self.button.on_click(lambda _: self.check())
        head = widgets.HTML(f"<b>The numbers of student {html.escape(p.student_id)}</b>{givens_html(p)}")
        self.widget = widgets.VBox([head, *rows, self.button, self.output])

    def __repr__(self):  # no address, so a stored notebook output stays the same
        return f"byhand.form({self.problem.network!r}, {self.problem.student_id!r})"

    def answers(self) -> dict[str, str]:
        """The filled-in boxes as {step key: text}, in the steps' order."""
        return {key: box.value for key, box in self.boxes.items() if box.value.strip()}

    def check(self) -> Any:
        """Mark the boxes and show the Marking under the button; returns it."""
        from IPython.display import display

        marking = check_by_hand(self.problem.network, self.problem.student_id, self.answers(), steps=self.chosen)
        self.output.clear_output()
        with self.output:
            display(marking)
        return marking

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def form(network: str, student_id: str, steps: Any = None) -> Form:
    """The Form for this student's problem for network; ValueError with a sentence for a bad id.

    steps: the graded steps, as grade_by_hand takes them (None: the network's default).
    """
    return Form(problem(network, student_id), steps)
