"""Feedback files that show their maths with no network: MathJax inlined into each one.

`nbgrader generate_feedback` writes one HTML file per notebook, and its
template loads MathJax 2 from a CDN.  Opened offline, behind a strict network,
or from a mail attachment, such a file shows every formula as TeX source
(`$x_1$`, `$$\\begin{aligned}…`).  FeedbackExporter renders the same template
and then replaces the CDN script by MathJax 3 itself, the all-in-one
``tex-svg-full`` component (every TeX extension, SVG output whose glyphs are in
the script, so no font or extension is fetched), from the django-static-mathjax
package: about 2.3 MB per feedback file, and no request leaves the reader's
machine.

Set by gradelib.grading.course.configure(c):

    c.GenerateFeedback.exporter_class = FeedbackExporter
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from typing import Any

from ...html_export import AccessibleHTMLExporter

COMPONENT = "static/mathjax/es5/tex-svg-full.js"  # inside the package `mathjax` (django-static-mathjax)

# MathJax 3 with the delimiters nbconvert's MathJax 2 configuration uses, so the same cells typeset the same way
CONFIG = """window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  svg: {fontCache: 'global'},
  options: {enableMenu: false, enableAssistiveMml: true}   // a hidden MathML copy for screen readers
};"""

_CDN_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"'][^\"']*mathjax[^\"']*[\"'][^>]*>\s*</script>", re.I)
_MATHJAX2_CONFIG = re.compile(r"<script\b[^>]*type=[\"']text/x-mathjax-config[\"'][^>]*>.*?</script>", re.I | re.S)


class MathJaxMissing(RuntimeError):
    """MathJax's script is not installed here; the message says how to install it."""


@functools.lru_cache(maxsize=1)
def mathjax_script() -> str:
    """The text of MathJax 3's tex-svg-full component, read once per process."""
    spec = importlib.util.find_spec("mathjax")
    path = (
        Path(list(spec.submodule_search_locations)[0]) / COMPONENT if spec and spec.submodule_search_locations else None
    )
    if path is None or not path.is_file():
        raise MathJaxMissing(
            "feedback files need MathJax to show their formulas offline: "
            "pip install django-static-mathjax (it is in requirements.txt)"
        )
    return path.read_text(encoding="utf-8")


def offline_maths(html: str) -> str:
    """html with any MathJax loaded from elsewhere (and MathJax 2's configuration) replaced by MathJax 3 inline."""
    html = _MATHJAX2_CONFIG.sub("", _CDN_SCRIPT.sub("", html))
    # a "</script" inside the script would end the element early; "<\/script" is the same string to JavaScript
    script = mathjax_script().replace("</script", "<\\/script")
    block = (
        f"<!-- MathJax 3 (Apache-2.0), inline so that the maths shows offline -->\n"
        f"<script>\n{CONFIG}\n</script>\n<script>\n{script}\n</script>\n"
    )
    head = re.search(r"</head\s*>", html, re.I)
    if head is None:
        return block + html
    return html[: head.start()] + block + html[head.start() :]


class FeedbackExporter(AccessibleHTMLExporter):
    """nbgrader's feedback HTML, with MathJax inlined (see the module docstring) and AA code colours
    (gradelib.html_export)."""

    def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
        output, resources = super().from_notebook_node(nb, resources, **kw)
        try:
            return offline_maths(output), resources
        except MathJaxMissing as why:  # the feedback is still worth having; its maths then needs the network
            self.log.warning("%s; this feedback file loads MathJax from the network instead.", why)
            return output, resources
