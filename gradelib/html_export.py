"""HTML exports of the course notebooks that meet WCAG 2.1 AA: nbconvert's lab template with readable code colours.

    python -m gradelib.html_export source/02_relu_chain/02_relu_chain.ipynb    # writes 02_relu_chain.html beside it

nbconvert's lab template colours code with JupyterLab's light theme, whose numbers (#080), operator words
(#a2f), comments (#408080), a few more and the prompts fall below AA's 4.5:1 (axe-core counted 150 to 220
such elements per notebook); nbgrader's feedback template colours code with Pygments' "default" style, a few
of whose colours are just below it on a code cell's grey.  AccessibleHTMLExporter is nbconvert's HTMLExporter
with those colours darkened, each the same hue, to 4.6:1 or more, an html lang, links underlined, and every
rendered Markdown cell and text output focusable, as nbconvert makes inputs and outputs, so a wide one scrolls
from the keyboard.  The feedback files' exporter (gradelib.grading.report.feedback) builds on it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter

# JupyterLab light theme's editor colour -> the same hue darkened to >= 4.8:1 on #eee; its prompts of cells not
# selected (#b0b0b0 at opacity 0.4) -> #595959, opaque
THEME_COLOURS = {
    **{
        f"mirror-editor-{k}-color": v
        for k, v in {
            "atom": "#5f5fb2",
            "bracket": "#686850",
            "builtin": "#007800",
            "comment": "#387070",
            "error": "#d10000",
            "hr": "#686868",
            "keyword": "#007800",
            "meta": "#981ee5",
            "number": "#007700",
            "operator": "#981ee5",
            "quote": "#007700",
        }.items()
    },
    "cell-prompt-not-active-font-color": "#595959",
}
THEME_OPACITY = {"cell-prompt-not-active-opacity": "1"}
CODE_BACKGROUND = "#eeeeee"  # the darkest grey behind code in nbconvert's and nbgrader's templates
AA = 4.6  # WCAG AA asks 4.5:1 for text; a little more, for rounding in browsers
# nbgrader's feedback template (Bootstrap 3) links: Bootstrap's darker blue #23527c (7:1 on its #f5f5f5 panels,
# #337ab7 has 4.2:1), white (4.5:1), not #bbb (2.4:1), in a graded cell's blue heading; underlined everywhere, so
# that a link is told from the text around it by more than its colour (JupyterLab's own link rules are more specific)
PAGE_CSS = "a { color: #23527c; text-decoration: underline; } div.nbgrader_cell .panel-heading a { color: #fff; }"
_MARKDOWN = re.compile(r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown')


def contrast(a: str, b: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        c = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def darkened(colour: str, background: str = CODE_BACKGROUND) -> str:
    """colour, or the same hue darkened step by step until it reaches AA on background."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    scale = 1.0
    while contrast(colour, background) < AA:
        scale -= 0.02
        colour = "#" + "".join(f"{int(v * scale):02x}" for v in rgb)
    return colour


def pygments_css(style: str = "default") -> str:
    """CSS for the .highlight classes of a Pygments style (nbgrader's feedback colours code with "default")
    whose colour falls below AA on a code cell's grey, each darkened."""
    from pygments.styles import get_style_by_name
    from pygments.token import STANDARD_TYPES

    rules = []
    for token, spec in get_style_by_name(style):
        colour = f"#{spec['color']}" if spec["color"] else None
        if colour and token in STANDARD_TYPES and STANDARD_TYPES[token] and darkened(colour) != colour:
            rules.append(f".highlight .{STANDARD_TYPES[token]} {{ color: {darkened(colour)}; }}")
    return " ".join(rules)


def style_block() -> str:
    """The <style> every exported page gets: theme variables on body (so that they win over the theme's own,
    set on :root, whatever the order of the style sheets), the Pygments colours, the links."""
    variables = " ".join(f"--jp-{k}: {v};" for k, v in {**THEME_COLOURS, **THEME_OPACITY}.items())
    return f"<style>body {{ {variables} }} {pygments_css()} {PAGE_CSS}</style>\n"


def accessible(html: str) -> str:
    """An nbconvert HTML page with AA colours, a language, and focusable Markdown cells and text outputs (a wide
    one scrolls from the keyboard)."""
    html = _MARKDOWN.sub('<div tabindex="0" class="jp-RenderedHTMLCommon jp-RenderedMarkdown', html)
    html = re.sub(r"<pre>", '<pre tabindex="0">', html)
    html = re.sub(r"<html>", '<html lang="en">', html, count=1)
    head = re.search(r"</head\s*>", html, re.IGNORECASE)
    block = style_block()
    return block + html if head is None else html[: head.start()] + block + html[head.start() :]


class AccessibleHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter, its page made accessible (see the module docstring)."""

    def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return accessible(output), resources


def main(argv: Sequence[str] | None = None) -> None:
    """Export each notebook given to an .html file beside it."""
    parser = argparse.ArgumentParser(prog="python -m gradelib.html_export", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args(argv).notebooks:
        html, _ = AccessibleHTMLExporter().from_filename(str(path))
        path.with_suffix(".html").write_text(html, encoding="utf-8")
        print(path.with_suffix(".html"))


if __name__ == "__main__":
    main()
