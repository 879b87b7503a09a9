"""Text alternatives for every picture gradelib draws: what it shows, with its numbers, in words.

A figure made by gradelib.draw.new_figure is a DescribedFigure.  Shown in a notebook, it carries its alt text
in the two forms the renderers we ship through read (Jupyter has no settled convention yet:
jupyter/enhancement-proposals#120):

- ``text/html``: ``<img alt="…" src="data:image/png;base64,…">`` with the very PNG of the ``image/png``
  output beside it, so JupyterLab (which prefers HTML to PNG and reads no alt from metadata) and nbconvert's
  HTML and feedback pages (which prefer HTML too) show the same picture with its alt;
- the ``image/png`` output's metadata ``{"alt": …}``, the form JEP 120 proposes.

The words come from the axes: a drawing of a network or a plot says what it is with set_alt(ax, text); any
other axes is described from what is on it (its title and labels, and for each line where it starts, where
it ends and its lowest point).  The same figure always gives the same words.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import Any

import numpy as np
from matplotlib.figure import Figure

ALT_ATTRIBUTE = "_gradelib_alt"  # where set_alt keeps an axes' words (an attribute matplotlib does not use)


def set_alt(ax: Any, text: str) -> Any:
    """Say in words what the axes ax shows; returns ax."""
    setattr(ax, ALT_ATTRIBUTE, text)
    return ax


def plain(label: str) -> str:
    """A matplotlib label as words, in the notes' symbols: "$W_{35}$" -> "W35", "$O_{b2}$" -> "O_b2",
    "$\\frac{1}{2}(O_b - Y)^2$" -> "½(O_b - Y)^2"."""
    for a, b in (("\\frac{1}{2}", "½"), ("\\mathrm", ""), ("\\", ""), ("$", ""), ("{", ""), ("}", "")):
        label = label.replace(a, b)
    return " ".join(re.sub(r"_(\d)", r"\1", label).split())


def _number(v):
    return f"{float(v):.4g}"


def _line_words(line, name, along):
    """One plotted line: how many points, where it starts and ends, its lowest point (at `along` = x)."""
    x, y = (np.asarray(a, dtype=float) for a in line.get_data())
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if not len(y):
        return f"{name}: no points"
    low = int(np.argmin(y))
    return (
        f"{name}: {len(y)} points, from {_number(y[0])} at {along} {_number(x[0])} to {_number(y[-1])} at "
        f"{along} {_number(x[-1])}, lowest {_number(y[low])} at {along} {_number(x[low])}"
    )


def describe_axes(ax: Any) -> str:
    """Words for axes no drawing described: its axes' labels and scales, its lines and point sets."""
    xlabel, ylabel = plain(ax.get_xlabel()) or "x", plain(ax.get_ylabel()) or "y"
    scale = " (log scale)" if ax.get_yscale() == "log" and "log" not in ylabel else ""
    parts = [f"A plot of {ylabel}{scale} against {xlabel}"]
    lines = ax.get_lines()
    for i, line in enumerate(lines, 1):
        label = line.get_label()  # matplotlib names an unlabelled line "_child0": say what it is instead
        name = plain(label) if not label.startswith("_") else ylabel if len(lines) == 1 else f"line {i}"
        parts.append(_line_words(line, name, xlabel))
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) and collection.get_label() and not collection.get_label().startswith("_"):
            parts.append(f"{plain(collection.get_label())}: {len(offsets)} points")
    return ". ".join(parts)


def axes_alt(ax: Any) -> str:
    """One axes in words: its title as it is now (a caller may change it after drawing), then set_alt's words,
    else describe_axes'."""
    title = plain(ax.get_title())
    words = getattr(ax, ALT_ATTRIBUTE, None) or describe_axes(ax)
    return f"{title}. {words}." if title else f"{words}."


def figure_alt(fig: Any) -> str:
    """The figure's text alternative: each visible axes' words, in order."""
    return " ".join(axes_alt(ax) for ax in fig.axes if ax.get_visible()) or "An empty figure."


def png_base64(fig: Any) -> str:
    """The PNG IPython's inline backend shows for fig (its own formatter, so the bytes are the same), base64."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # drawing without IPython: matplotlib's PNG as the inline backend makes it
        shell = None
    if shell is not None and shell.display_formatter is not None:
        data = shell.display_formatter.formatters["image/png"](fig)
        data = data[0] if isinstance(data, tuple) else data  # (data, metadata) for a retina figure
        if data is not None:
            return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class DescribedFigure(Figure):
    """A matplotlib Figure that shows in a notebook with its text alternative (see the module docstring)."""

    def __repr__(self):  # a Figure's own text ("<Figure size 800x360 with 1 Axes>"), kept in stored outputs
        return super().__repr__().replace(type(self).__name__, "Figure", 1)

    def _repr_mimebundle_(self, include=None, exclude=None):
        alt = figure_alt(self)
        img = f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{png_base64(self)}">'
        return {"text/html": img}, {"image/png": {"alt": alt}, "text/html": {"alt": alt}}
