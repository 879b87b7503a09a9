"""Text alternatives (gradelib.alt) and AA colours (gradelib.html_export): every picture says what it shows, with its
numbers, in the forms JupyterLab and nbconvert read; the export's code colours reach 4.5:1."""
import base64
import html
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from gradelib import byhand
from gradelib.alt import DescribedFigure, figure_alt
from gradelib.draw import draw_backward, draw_network
from gradelib.explore import DEFAULTS, explorer
from gradelib.text import fixed
from gradelib.train import plot_loss_runs, plot_losses

NETWORKS = ("single_neuron", "relu_chain", "softmax_223")
ROOT = Path(__file__).resolve().parents[1]


def point(network):
    d = DEFAULTS[network]
    return d["x"], d["params"], d["target"]


@pytest.mark.parametrize("network", NETWORKS)
def test_a_drawing_says_every_value_it_shows(network):
    x, params, target = point(network)
    fig = draw_network(network, x, params, target, title="At the start")
    alt = figure_alt(fig)
    assert alt.startswith("At the start. A drawing after the forward pass of the network " + network)
    for p, v in params.items():   # every edge's weight, as written on the edge
        assert f"{p} = {fixed(v, 2)}" in alt, p
    state = fig.axes[0].texts   # every number drawn anywhere is in the words
    drawn = {n for t in state for n in re.findall(r"-?\d+\.\d+", t.get_text())}
    assert drawn and all(n in alt for n in drawn), drawn - set(re.findall(r"-?\d+\.\d+", alt))
    assert "$" not in alt and "{" not in alt   # words, not mathtext


@pytest.mark.parametrize("network", NETWORKS)
def test_a_backward_drawing_says_each_product(network):
    x, params, target = point(network)
    alt = figure_alt(draw_backward(network, x, params, target))
    assert "backward pass" in alt and alt.count(" × ") >= len(params)
    assert "Loss = " in alt and "upstream × local" in alt


def test_a_loss_plot_says_where_it_starts_ends_and_is_lowest():
    alt = figure_alt(plot_losses([0.8, 0.5, 0.25, 0.3], title="Training"))
    assert alt == ("Training. A plot of mean loss over the data against epoch. mean loss over the data: 4 points, "
                   "from 0.8 at epoch 1 to 0.3 at epoch 4, lowest 0.25 at epoch 3.")
    runs = figure_alt(plot_loss_runs({"slow": [1.0, 0.5], "fast": [1.0, 0.01]}, log=True))
    assert "(log scale)" in runs and "slow: 2 points" in runs and "to 0.01 at epoch 2" in runs


def test_a_figure_shows_as_an_img_with_its_alt_beside_the_png():
    fig = draw_network("relu_chain")
    assert isinstance(fig, DescribedFigure) and repr(fig).startswith("<Figure size")
    data, metadata = fig._repr_mimebundle_()
    alt = metadata["image/png"]["alt"]
    assert alt == figure_alt(fig) and metadata["text/html"]["alt"] == alt
    found = re.fullmatch(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', data["text/html"])
    assert found and found.group(1) == alt.replace("'", "&#x27;")
    assert base64.b64decode(found.group(2))[:4] == b"\x89PNG"


def test_the_explorer_picture_has_its_words():
    box = explorer("single_neuron")
    words = html.unescape(re.search(r'alt="([^"]+)"', box.image.value).group(1))
    assert words.startswith("A drawing after the forward pass of the network single_neuron")
    assert f"Loss = {fixed(float(box.loss_html.value.split('= ')[1]), 3)}" in words


@pytest.mark.parametrize("network", NETWORKS)
def test_the_sheet_drawing_is_one_image_named_by_its_numbers(network):
    page = byhand.sheet(network, "ada").html()
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert re.match(r'<svg [^>]*role="img"', svg)
    title = re.search(r"<title>(.*?)</title>", svg, re.DOTALL).group(1)
    p = byhand.problem(network, "ada")
    assert all(f"{k} = {fixed(v, 2)}" in title for k, v in p.params.items())
    assert "color: #595959" in page and "#777" not in page


def test_the_export_colours_meet_aa_on_a_code_cell():
    pytest.importorskip("nbconvert")
    from gradelib.html_export import CODE_BACKGROUND, THEME_COLOURS, accessible, contrast, style_block
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54 and contrast("#000000", "#ffffff") == 21
    assert all(contrast(c, CODE_BACKGROUND) >= 4.5 for c in THEME_COLOURS.values()), THEME_COLOURS
    pygments = re.findall(r"\.highlight \.\w+ \{ color: (#[0-9a-f]{6}); \}", style_block())
    assert len(pygments) > 10 and all(contrast(c, CODE_BACKGROUND) >= 4.5 for c in pygments)
    page = accessible('<html><head></head><body><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown">'
                      "</div><pre>x</pre></body></html>")
    assert "--jp-mirror-editor-number-color: #007700;" in page and page.index("<style>") < page.index("</head>")
    assert 'tabindex="0" class="jp-RenderedHTMLCommon jp-RenderedMarkdown' in page and '<pre tabindex="0">' in page
    assert page.count('<html lang="en">') == 1


@pytest.mark.parametrize("path", sorted(ROOT.glob("source/*/*.ipynb")), ids=lambda p: p.stem)
def test_nbconvert_finds_no_picture_without_alt_text(path):
    """nbconvert's HTMLExporter counts the <img> without alt in its page and warns ("Alternative text is missing
    on 5 image(s)"): none in the course notebooks, in its own export as in ours."""
    nbconvert = pytest.importorskip("nbconvert")
    from gradelib.html_export import AccessibleHTMLExporter
    for exporter in (nbconvert.HTMLExporter(), AccessibleHTMLExporter()):
        page, _ = exporter.from_filename(str(path))
        assert "No description has been provided for this image" not in page   # what nbconvert puts in their alt
        assert len(re.findall(r"<img ", page)) >= 5
