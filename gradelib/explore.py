"""An ipywidgets explorer: move an input or a weight and see the network, the loss, the gradients and one step.

    explorer("single_neuron", single_neuron_gradients, single_neuron_update)

A thin wrapper: the forward pass is gradelib's, the reference gradient is
gradelib.numerical_gradient, the drawing is gradelib.draw.draw_network.  The
student's functions are called through gradelib.student.call, so one that
raises, loops or returns junk gives a sentence in the widget, never a crash
or a line on stderr.  Sliders use continuous_update=False and the widget
computes everything once on creation, so a headless run (nbval, nbgrader)
executes all of it.
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np

from . import oracle
from .alt import figure_alt
from .draw import draw_network
from .exercises import find_network
from .student import Problem, call, read_dict
from .text import fixed, full_stop

# Where the explorer starts when no point is given: every ReLU on, round numbers a student can redo on paper.
DEFAULTS: dict[str, dict[str, Any]] = {
    "single_neuron": dict(x=(0.5, -1.0), params=dict(w1=0.8, w2=-0.4, b=0.1), target=1.5),
    "relu_chain": dict(x=(1.0,), params=dict(w11=0.5, b1=0.1, w12=0.9, b2=0.1), target=1.0),
    "softmax_223": dict(
        x=(0.5, -0.4),
        params=dict(
            W13=0.6,
            W23=-0.3,
            W14=-0.4,
            W24=-0.7,
            b3=0.1,
            b4=0.1,
            W35=0.4,
            W45=-0.5,
            W36=-0.3,
            W46=0.8,
            W37=0.2,
            W47=0.1,
            b5=0.0,
            b6=0.1,
            b7=-0.1,
        ),
        target=5,
    ),
}

SLIDER_RANGE = 2.0  # sliders run over [-2, 2], wider if a given value lies at or beyond the end
AGREE = 1e-4  # the student's gradient agrees if |yours − numerical| ≤ AGREE·max(1, |numerical|)
PNG_DPI = 80


class Point(NamedTuple):
    """Where the explorer stands: the input, the parameters, the target and the learning rate."""

    x: tuple
    params: dict
    target: object
    eta: float


def _bound(value):
    return max(SLIDER_RANGE, math.ceil(abs(float(value))) + 1)  # room on both sides of the start


def _fmt(v):
    return fixed(v, 4)


def _slider(name, value, lo=None, hi=None, step=0.01):
    b = _bound(value)
    return widgets.FloatSlider(
        value=float(value),
        min=-b if lo is None else lo,
        max=b if hi is None else hi,
        step=step,
        description=name,
        continuous_update=False,
        readout_format=".2f",
        style={"description_width": "48px"},
        layout=widgets.Layout(width="280px"),
    )


def _table(header, rows):
    cell = "padding:0 8px;text-align:right;line-height:1.35;font-family:monospace"
    head = "".join(f"<th style='{cell}'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='{cell}'>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table style='border-collapse:collapse;margin:2px 0'><tr>{head}</tr>{body}</table>"


def _sentence(text, colour="#b3261e"):
    return f"<p style='color:{colour};margin:4px 0'>{html.escape(text)}</p>"


def _name(fn, default):
    return getattr(fn, "__name__", None) or default


def _math_name(name):
    """'W35' -> 'W<sub>35</sub>' for the HTML tables."""
    head = name.rstrip("0123456789")
    digits = name[len(head) :]
    return f"{html.escape(head)}<sub>{digits}</sub>" if digits else html.escape(name)


def _student_dict(fn, args, keys, fn_name, what):
    """(dict of floats, None) from a student's function, or (None, a sentence saying what went wrong)."""
    outcome = call(fn, args, fn_name)
    if outcome.problem is not None:
        return None, outcome.problem.sentence
    try:
        values = read_dict(outcome.value, list(keys), fn_name, what)
    except Problem as problem:
        return None, problem.sentence
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        return None, f"{fn_name} returned a value that is not a finite number for {', '.join(bad)}."
    return values, None


class Explorer:
    """Builds the widget and recomputes on every change; the widget is .widget (see explorer())."""

    def __init__(self, net, gradients, update, point):
        self.net = net
        self.gradients, self.update = gradients, update
        self.sliders = self._make_sliders(point)
        self.widget = self._make_widget()
        self.widget.explorer = self
        for s in self.sliders.values():
            s.observe(self._changed, names="value")
        self.refresh()

    def _make_sliders(self, point):
        """name -> slider (or the target's dropdown): the inputs, "target", "eta" and every parameter."""
        net, w = self.net, widgets
        sliders = {name: _slider(name, value) for name, value in zip(net.inputs, point.x)}
        if net.classes:
            sliders["target"] = w.Dropdown(
                options=[(f"node {k}", k) for k in net.classes],
                value=int(point.target),
                description="target",
                style={"description_width": "48px"},
                layout=w.Layout(width="280px"),
            )
        else:
            sliders["target"] = _slider(net.target_symbol, point.target)
        sliders["eta"] = _slider("η", point.eta, lo=0.0, hi=max(1.0, math.ceil(float(point.eta))), step=0.01)
        for name in net.params:
            sliders[name] = _slider(name, point.params[name])
        return sliders

    def _make_widget(self):
        """The box: the sliders in two grids, the drawing, the loss, the gradient and step tables, an error line."""
        net, w, sliders = self.net, widgets, self.sliders
        grid = dict(grid_template_columns="repeat(3, 290px)", grid_gap="2px 8px")
        first = [sliders[n] for n in (*net.inputs, "target", "eta")]
        # the drawing as HTML <img> with its alt text: ipywidgets' Image has no alt, and with a tooltip (a title)
        # ipywidgets 8.1's ImageView fails to render ("Cannot read properties of undefined")
        self.image = w.HTML(layout=w.Layout(max_width="100%"))
        self.loss_html = w.HTML(style={"font_size": "16px"}, layout=w.Layout(margin="4px 0 4px 8px"))
        self.loss_html.add_class("gradelib-loss")
        self.gradient_html = w.HTML()
        self.step_html = w.HTML()
        self.error_html = w.HTML()
        return ExplorerBox(
            [
                w.HTML("<b>Input, target and learning rate η</b>"),
                w.GridBox(first, layout=w.Layout(**grid)),
                w.HTML("<b>Parameters</b>"),
                w.GridBox([sliders[n] for n in net.params], layout=w.Layout(**grid)),
                self.image,
                self.loss_html,
                w.HBox([self.gradient_html, self.step_html], layout=w.Layout(grid_gap="24px")),
                self.error_html,
            ]
        )

    # the current point, read from the sliders
    def point(self) -> Any:
        s = self.sliders
        x = tuple(float(s[n].value) for n in self.net.inputs)
        params = {k: float(s[k].value) for k in self.net.params}
        target = int(s["target"].value) if self.net.classes else float(s["target"].value)
        return Point(x, params, target, float(s["eta"].value))

    def _changed(self, change):
        self.refresh()

    def refresh(self) -> None:
        """Recompute everything; whatever goes wrong becomes a sentence in the widget."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")  # nothing may reach stderr in a headless run
                self._refresh()
            self.error_html.value = ""
        except Exception as exc:  # noqa: BLE001  the widget must survive anything; say what happened instead
            self.error_html.value = _sentence(f"The explorer could not update: {type(exc).__name__}: {exc}")

    def loss(self, x: Any, params: Any, target: Any) -> float:
        return float(self.net.forward(x, params, target)["Loss"])

    def _refresh(self):
        net, point = self.net, self.point()
        x, params, target, _ = point
        fig = draw_network(net.name, x, params, target)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=PNG_DPI)
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.image.value = (
            f'<img alt="{html.escape(figure_alt(fig))}" style="max-width:100%" src="data:image/png;base64,{png}">'
        )
        loss = self.loss(x, params, target)
        self.loss_html.value = f"Loss = {loss:.6f}"
        numerical = oracle.numerical_gradient(net.name, x, params, target)
        self.gradient_html.value = self._gradient_table(point, numerical)
        self.step_html.value = self._step_table(point, numerical, loss)

    def _gradient_table(self, point, numerical):
        net, (x, params, target, _) = self.net, point
        head = "<b>Gradients dLoss/dp</b>"
        if self.gradients is None:
            rows = [[_math_name(k), _fmt(numerical[k])] for k in net.params]
            return (
                head
                + _sentence("Numerical gradients from gradelib (central differences).", "#333")
                + _table(["p", "numerical"], rows)
            )
        fn_name = _name(self.gradients, "your gradient function")
        yours, problem = _student_dict(self.gradients, (x, dict(params), target), net.params, fn_name, "gradients")
        if problem:
            rows = [[_math_name(k), _fmt(numerical[k])] for k in net.params]
            return (
                head
                + _sentence(f"{full_stop(problem)} Showing gradelib's numerical gradients instead.")
                + _table(["p", "numerical"], rows)
            )
        wrong = [k for k in net.params if abs(yours[k] - numerical[k]) > AGREE * max(1.0, abs(numerical[k]))]
        rows = [[_math_name(k), _fmt(yours[k]), _fmt(numerical[k]), "✗" if k in wrong else "✓"] for k in net.params]
        if wrong:
            note = _sentence(
                f"Your gradients ({fn_name}) disagree with the numerical ones for {', '.join(wrong)} at this point."
            )
        else:
            note = _sentence(f"Your gradients ({fn_name}) agree with the numerical ones at this point.", "#1b7f3b")
        return head + note + _table(["p", "yours", "numerical", ""], rows)

    def _step_table(self, point, numerical, loss):
        net, (x, params, target, eta) = self.net, point
        head = "<b>One gradient-descent step</b>"
        if self.update is None:
            after = {k: params[k] - eta * numerical[k] for k in net.params}
            note = _sentence(f"p − η·dLoss/dp with gradelib's numerical gradient, η = {eta:g}.", "#333")
        else:
            fn_name = _name(self.update, "your update function")
            after, problem = _student_dict(
                self.update, (x, dict(params), target, eta), net.params, fn_name, "new parameters"
            )
            if problem:
                return head + _sentence(problem)
            note = _sentence(f"The parameters after {fn_name}, η = {eta:g}.", "#333")
        rows = [[_math_name(k), _fmt(params[k]), _fmt(after[k]), _fmt(after[k] - params[k])] for k in net.params]
        new_loss = self.loss(x, after, target)
        verdict = f"Loss after the step = {new_loss:.6f} (before: {loss:.6f})."
        if new_loss > loss:
            verdict += (
                " The loss went up: a gradient-descent step with a small η lowers it, so check the sign "
                "of the update, or try a smaller η."
            )
        return head + note + _table(["p", "now", "after", "change"], rows) + _sentence(verdict, "#333")


class ExplorerBox(widgets.VBox):
    """The VBox explorer() returns; its text form is one fixed line, so a stored output never changes."""

    def __repr__(self):
        return f"explorer for {self.explorer.net.name} (it shows as a widget in JupyterLab)"


def explorer(
    network: str,
    gradients: Any = None,
    update: Any = None,
    *,
    x: Any = None,
    params: Any = None,
    target: Any = None,
    eta: float = 0.1,
) -> Any:
    """A widget to explore network ("single_neuron", "relu_chain" or "softmax_223") at one point.

    gradients: the student's fn(x, params, target) -> dict of dLoss/dp (else numerical ones are shown);
    update: the student's fn(x, params, target, eta) -> dict of new params (else p − η·numerical gradient).
    Returns an ipywidgets VBox; display it by ending the cell with it.  For tests it carries
    .sliders (name -> slider/dropdown; inputs, "target", "eta" and every parameter), .loss_html,
    .gradient_html, .step_html, .error_html, .image (an HTML <img> with its alt text) and .explorer (the
    object that recomputes).
    """
    net = find_network(network, "explorer")
    start = DEFAULTS[net.name]
    point = Point(
        start["x"] if x is None else x,
        start["params"] if params is None else params,
        start["target"] if target is None else target,
        eta,
    )
    net.validate(point.x, point.params, point.target)
    ex = Explorer(net, gradients, update, point)
    box = ex.widget
    box.sliders, box.loss_html, box.image = ex.sliders, ex.loss_html, ex.image
    box.gradient_html, box.step_html, box.error_html = ex.gradient_html, ex.step_html, ex.error_html
    return box
