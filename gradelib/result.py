"""What check() returns: a verdict, the mistakes by name, and the feedback in words."""

import html


class Result:
    """.passed, .mistakes (short names), .messages (sentences for the student), .notes (asides).

    str() is plain text, _repr_html_ a coloured box for JupyterLab, and
    assert_passed() raises AssertionError with the same text, for nbgrader.
    """

    def __init__(self, exercise, passed, messages, mistakes=(), notes=(), per_parameter=None):
        self.exercise = exercise
        self.passed = bool(passed)
        self.messages = list(messages)
        self.mistakes = list(dict.fromkeys(mistakes))
        self.notes = list(notes)
        self.per_parameter = dict(per_parameter or {})

    def __bool__(self):
        return self.passed

    def __str__(self):
        head = f"{self.exercise}: " + ("passed" if self.passed else "not yet right")
        lines = [head] + [f"- {m}" for m in self.messages] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__  # the text output of a self-check cell: no addresses, so nbval can compare it

    def _repr_html_(self):
        colour, mark = ("#1b7f3b", "&#10004;") if self.passed else ("#b3261e", "&#10008;")
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        notes = "".join(f"<li><i>{html.escape(n)}</i></li>" for n in self.notes)
        verdict = "passed" if self.passed else "not yet right"
        return (
            f'<div class="gradelib-result" style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{mark} {html.escape(self.exercise)}: {verdict}</b>'
            f'<ul style="margin:4px 0">{items}{notes}</ul></div>'
        )

    def assert_passed(self):
        """Raise AssertionError carrying the feedback unless the check passed; return self if it did."""
        if not self.passed:
            raise AssertionError(str(self))
        return self
