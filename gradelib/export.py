"""HTML exports of the course notebooks that meet WCAG 2.1 AA: nbconvert's lab template with readable code colours.

    python -m gradelib.export source/02_relu_chain/02_relu_chain.ipynb    # writes 02_relu_chain.html beside it

nbconvert's lab template colours code with JupyterLab's light theme, whose numbers (#080), operator words
(#a2f), comments (#408080) and a few more fall below AA's 4.5:1 on the grey of a code cell (axe-core counted
150 to 220 such spans per notebook).  AccessibleHTMLExporter is nbconvert's HTMLExporter with those colours
darkened, each the same hue, to at least 4.8:1 on #eee (JupyterLab's other colours already pass), and every
rendered Markdown cell focusable, as nbconvert makes inputs and outputs, so a wide one scrolls from the keyboard.
The feedback files' exporter (gradelib.grading.feedback) builds on it.
"""
import argparse
import re
from pathlib import Path

from nbconvert.exporters import HTMLExporter

# JupyterLab light theme's editor colour -> the same hue darkened to >= 4.8:1 on #eee
CODE_COLOURS = {"atom": "#5f5fb2", "bracket": "#686850", "builtin": "#007800", "comment": "#387070",
                "error": "#d10000", "hr": "#686868", "keyword": "#007800", "meta": "#981ee5", "number": "#007700",
                "operator": "#981ee5", "quote": "#007700"}
# on body, so that they win over the theme's own, set on :root, whatever the order of the style sheets
STYLE = "<style>body {" + " ".join(f"--jp-mirror-editor-{k}-color: {v};" for k, v in CODE_COLOURS.items()) + \
    "}</style>\n"
_MARKDOWN = re.compile(r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown')


def accessible(html):
    """An nbconvert HTML page with the AA code colours and focusable Markdown cells."""
    html = _MARKDOWN.sub('<div tabindex="0" class="jp-RenderedHTMLCommon jp-RenderedMarkdown', html)
    head = re.search(r"</head\s*>", html, re.IGNORECASE)
    return STYLE + html if head is None else html[:head.start()] + STYLE + html[head.start():]


class AccessibleHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter, its page made accessible (see the module docstring)."""

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return accessible(output), resources


def main(argv=None) -> None:
    """Export each notebook given to an .html file beside it."""
    parser = argparse.ArgumentParser(prog="python -m gradelib.export", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args(argv).notebooks:
        html, _ = AccessibleHTMLExporter().from_filename(str(path))
        path.with_suffix(".html").write_text(html, encoding="utf-8")
        print(path.with_suffix(".html"))


if __name__ == "__main__":
    main()
