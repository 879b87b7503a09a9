"""Drawing the misconception report: one self-contained HTML page and a CSV beside it.

The page has no script, no font and no image from anywhere: its style is
inline CSS and its bar charts are inline SVG, so it opens from a file, offline,
and can be shown in a lecture.  Student names appear only when the caller asks
(names=True).  The same Tally gives the same bytes: nothing here reads the
clock.
"""
import csv
import html
import io

from .tally import MIN_TOGETHER

BAR_WIDTH = 360        # pixels of a bar at 100 %
ROW = 24               # pixels per bar
LABEL_WIDTH = 230      # pixels for the label left of a bar

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;
     max-width:980px;margin:24px auto;padding:0 16px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:21px;margin:28px 0 8px;border-bottom:2px solid #ddd}
h3{font-size:17px;margin:18px 0 4px} .muted{color:#666} .ex{border:1px solid #ddd;border-radius:8px;
padding:10px 16px;margin:12px 0;background:#fcfcfc} ol{margin:6px 0 0 0;padding-left:22px} li{margin:4px 0}
code{background:#f1f1f1;padding:0 4px;border-radius:3px} table{border-collapse:collapse;margin:6px 0}
td,th{border-bottom:1px solid #e4e4e4;padding:4px 8px;text-align:left;vertical-align:top}
.names{color:#555;font-size:13px} svg text{font:13px system-ui,sans-serif}
"""


def _e(text):
    return html.escape(str(text))


def _pct(x):
    return f"{100 * x:.0f}%"


def html_page(t, title, names=False):
    """The report as one HTML document (str)."""
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{_e(title)}</h1>",
             "<p class=\"muted\">What the class got wrong, from gradelib's verdicts at grading time: each bar is a "
             "mistake gradelib named, as a share of the graded submissions, with the sentence the students got. "
             + ("Student names are shown." if names else "No student names are shown.") + "</p>"]
    for a in t.assignments:
        parts.append(f"<h2>{_e(a)} <span class=\"muted\">({t.submissions.get(a, 0)} submissions)</span></h2>")
        for ex in [e for e in t.exercises if e.assignment == a]:
            parts.append(_exercise(ex, names))
        if not any(e.assignment == a for e in t.exercises):
            parts.append("<p>No graded function has a verdict yet.</p>")
    parts.append(_together(t, names))
    parts.append(_attention(t, names))
    if t.skipped:
        parts.append("<h2>Left out</h2><ul>" + "".join(f"<li>{_e(s)}</li>" for s in t.skipped) + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _exercise(ex, names):
    n = len(ex.graded)
    passed = len(ex.passed)
    head = (f"<div class=\"ex\"><h3>{_e(ex.exercise)} <span class=\"muted\">"
            f"({_e(', '.join(f + '()' for f in ex.functions))})</span></h3>"
            f"<p><b>{passed} of {n}</b> passed ({_pct(passed / n if n else 0)}).</p>")
    if not ex.mistakes:
        return head + "<p>No mistakes found.</p></div>"
    height = ROW * len(ex.mistakes) + 6
    width = LABEL_WIDTH + BAR_WIDTH + 110
    bars = [f"<svg role=\"img\" aria-label=\"mistakes in {_e(ex.exercise)}, largest first\" width=\"{width}\" "
            f"height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"]
    for i, m in enumerate(ex.mistakes):
        y = 3 + i * ROW
        w = max(2, round(BAR_WIDTH * m.share))
        bars.append(f"<text x=\"{LABEL_WIDTH - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{i + 1}. {_e(m.label)}</text>"
                    f"<rect x=\"{LABEL_WIDTH}\" y=\"{y + 3}\" width=\"{BAR_WIDTH}\" height=\"{ROW - 8}\" fill=\"#eee\"/>"
                    f"<rect x=\"{LABEL_WIDTH}\" y=\"{y + 3}\" width=\"{w}\" height=\"{ROW - 8}\" fill=\"#c0392b\"/>"
                    f"<text x=\"{LABEL_WIDTH + BAR_WIDTH + 8}\" y=\"{y + 16}\">{_pct(m.share)} "
                    f"({len(m.students)} of {n})</text>")
    bars.append("</svg>")
    items = []
    for m in ex.mistakes:
        params = ""
        if m.parameters:
            params = " <span class=\"muted\">Parameters: " + ", ".join(
                f"{_e(p)} ({c})" for p, c in m.parameters.items()) + ".</span>"
        who = f"<div class=\"names\">{_e(', '.join(m.students))}</div>" if names else ""
        items.append(f"<li><code>{_e(m.label)}</code>, {_pct(m.share)}: {_e(m.sentence)}{params}{who}</li>")
    return head + "".join(bars) + "<ol>" + "".join(items) + "</ol></div>"


def _together(t, names):
    head = (f"<h2>Mistakes that travel together</h2><p class=\"muted\">Two mistakes in different exercises that "
            f"at least {MIN_TOGETHER} students made both of (not counting unanswered or unjudged functions).</p>")
    if not t.together:
        return head + "<p>None.</p>"
    rows = ["<table><tr><th>mistake</th><th>and</th><th>students with both</th></tr>"]
    for g in t.together:
        who = f"<div class=\"names\">{_e(', '.join(g.students))}</div>" if names else ""
        rows.append(f"<tr><td>{_e(g.first[0])} · {_e(g.first[1])}: <code>{_e(g.first[2])}</code> "
                    f"({g.first_count})</td><td>{_e(g.second[0])} · {_e(g.second[1])}: <code>{_e(g.second[2])}</code> "
                    f"({g.second_count})</td><td>{len(g.students)} "
                    f"({_pct(len(g.students) / g.first_count)} of those with the first){who}</td></tr>")
    return head + "".join(rows) + "</table>"


def _attention(t, names):
    head = "<h2>Submissions to look at</h2>"
    if not t.attention:
        return head + "<p>None: every submission was graded and none was flagged.</p>"
    rows = ["<table><tr><th>assignment</th><th></th><th>reason</th><th>submissions</th></tr>"]
    for a in t.attention:
        who = f"<div class=\"names\">{_e(', '.join(a.who or a.students))}</div>" if names else ""
        rows.append(f"<tr><td>{_e(a.assignment)}</td><td>{_e(a.kind)}</td><td>{_e(a.reason)}</td>"
                    f"<td>{len(a.who or a.students)}{who}</td></tr>")
    return head + "".join(rows) + "</table>"


CSV_FIELDS = ["section", "assignment", "exercise", "label", "students", "of", "share", "sentence",
              "with_assignment", "with_exercise", "with_label", "names"]


def csv_text(t, names=False):
    """The report's figures as CSV, one row per passed count, mistake, pair and reason to look."""
    out = io.StringIO()
    w = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    w.writeheader()

    def row(**kw):
        who = kw.pop("who", [])
        kw["names"] = "; ".join(who) if names else ""
        w.writerow(kw)

    for ex in t.exercises:
        n = len(ex.graded)
        row(section="passed", assignment=ex.assignment, exercise=ex.exercise, students=len(ex.passed), of=n,
            share=f"{len(ex.passed) / n:.4f}" if n else "", who=ex.passed)
        for m in ex.mistakes:
            row(section="mistake", assignment=ex.assignment, exercise=ex.exercise, label=m.label,
                students=len(m.students), of=n, share=f"{m.share:.4f}", sentence=m.sentence, who=m.students)
    for g in t.together:
        row(section="together", assignment=g.first[0], exercise=g.first[1], label=g.first[2],
            students=len(g.students), of=g.first_count, share=f"{len(g.students) / g.first_count:.4f}",
            with_assignment=g.second[0], with_exercise=g.second[1], with_label=g.second[2], who=g.students)
    for a in t.attention:
        row(section=a.kind, assignment=a.assignment, students=len(a.who or a.students), sentence=a.reason,
            who=a.who or a.students)
    return out.getvalue()
