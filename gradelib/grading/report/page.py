"""Drawing the misconception report: one self-contained HTML page and a CSV beside it.

The page has no script, no font and no image from anywhere: its style is
inline CSS and its bar charts are inline SVG, so it opens from a file, offline,
and can be shown in a lecture.  Student names appear only when the caller asks
(names=True).  The same Tally gives the same bytes: nothing here reads the
clock.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator
from typing import Any

from ...exercises import lookup
from .tally import MIN_TOGETHER, NOT_ATTEMPTED, NOT_GRADED, NOT_JUDGED_KIND, Tally

BAR_WIDTH = 400  # pixels of a bar at 100 %
ROW = 40  # pixels per mistake: its label above, its bar below
CHART_WIDTH = 640  # the label may run the whole width; the figures sit right of the bar
LABEL_CHARS = 95  # a longer label is cut in the chart (the list below the chart has it whole)

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;
     max-width:980px;margin:24px auto;padding:0 16px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:21px;margin:28px 0 8px;border-bottom:2px solid #ddd}
h3{font-size:17px;margin:18px 0 4px} h4{font-size:15px;margin:12px 0 2px} .muted{color:#595959}
.ex{border:1px solid #ddd;border-radius:8px;padding:10px 16px;margin:12px 0;background:#fcfcfc}
ol,ul{margin:6px 0 0 0;padding-left:22px} li{margin:4px 0}
code{background:#f1f1f1;padding:0 4px;border-radius:3px;font-size:13px}
table{border-collapse:collapse;margin:6px 0;width:100%}
td,th{border-bottom:1px solid #e4e4e4;padding:4px 8px;text-align:left;vertical-align:top} .why{overflow-wrap:anywhere}
.names{color:#555;font-size:13px} svg text{font:13px system-ui,sans-serif} .gaps{color:#444}
"""

# what a kind of "Submissions to look at" means, in the instructor's words
KIND_WORDS = {
    NOT_GRADED: "could not be graded",
    NOT_JUDGED_KIND: "graded, but could not be judged",
    "flagged": "flagged for a look",
    "no verdicts": "no verdicts kept",
}


def _e(text):
    return html.escape(str(text))


def _pct(x):
    return f"{100 * x:.0f}%"


def _students(n):
    return f"{n} student{'s' if n != 1 else ''}"


def _submissions(n):
    return f"{n} submission{'s' if n != 1 else ''}"


def html_page(t: Tally, title: str, names: bool = False) -> str:
    """The report as one HTML document (str)."""
    parts = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>',
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        '<p class="muted">What the class got wrong, from gradelib\'s verdicts at grading time: each bar is a '
        "mistake gradelib named, as a share of the submissions counted in the exercise, with the sentence the "
        "students got. Functions not answered or not judged are shown apart, under the bars: they are no "
        "mistakes. " + ("Student names are shown." if names else "No student names are shown.") + "</p>",
    ]
    charts = iter(range(1, 10**6))  # ids of the charts' titles, unique on the page
    for a in t.assignments:
        parts.append(
            f'<section><h2>{_e(a)} <span class="muted">({_submissions(t.submissions.get(a, 0))})</span>'
            f"</h2>{_counted(t, a)}"
        )
        for ex in [e for e in t.exercises if e.assignment == a]:
            parts.append(_exercise(ex, len(t.counted.get(a, ())), names, next(charts)))
        if not any(e.assignment == a for e in t.exercises):
            parts.append("<p>No graded function has a verdict yet.</p>")
        parts.append("</section>")
    parts.append(_together(t, names))
    parts.append(_attention(t, names))
    if t.skipped:
        parts.append("<h2>Left out</h2><ul>" + "".join(f"<li>{_e(s)}</li>" for s in t.skipped) + "</ul>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _counted(t, a):
    """Right under an assignment's heading: how many submissions its exercises count, and why not the others."""
    counted, total = len(t.counted.get(a, ())), t.submissions.get(a, 0)
    if counted == total:
        return f"<p>All {_submissions(total)} are counted in the exercises below.</p>"
    others = "; ".join(f"{len(u.students)} {_e(u.why)}" for u in t.uncounted.get(a, ()))
    return (
        f"<p><b>{counted} of the {_submissions(total)}</b> are counted in the exercises below. "
        f'Not counted: {others} (see <a href="#look">Submissions to look at</a>).</p>'
    )


def _exercise(ex, counted, names, chart):
    n = len(ex.graded)
    head = (
        f'<div class="ex"><h3>{_e(ex.exercise)} <span class="muted">'
        f"({_e(', '.join(f + '()' for f in ex.functions))})</span></h3>"
        f"<p>{_outcomes(ex)}</p>"
    )
    if n != counted:
        head += (
            f'<p class="muted">This exercise counts {n} of the {counted}: the other '
            f"{_submissions(counted - n)} {'has' if counted - n == 1 else 'have'} no verdict for it.</p>"
        )
    body = _bars(ex, chart) + _mistake_list(ex, names) if ex.mistakes else "<p>No mistake named.</p>"
    return head + body + _gaps(ex, names) + "</div>"


def _outcomes(ex):
    """Passed, with a mistake, not answered, not judged: each counted student in one, adding up to n."""
    n = len(ex.graded)
    parts = [f"<b>{len(ex.passed)} of {n}</b> passed ({_pct(len(ex.passed) / n if n else 0)})"]
    if ex.mistaken:
        more = sum(len(m.students) for m in ex.mistakes) > len(ex.mistaken)
        parts.append(f"{len(ex.mistaken)} made a mistake named below" + (" (some made more than one)" if more else ""))
    if ex.unanswered:
        parts.append(f"{len(ex.unanswered)} did not answer")
    if ex.unjudged:
        parts.append(f"{len(ex.unjudged)} could not be judged")
    return "; ".join(parts) + "."


def _bars(ex, chart):
    """The mistakes as an inline SVG bar chart, largest first, with its text alternative as its title."""
    n = len(ex.graded)
    height = ROW * len(ex.mistakes) + 4
    alt = (
        f"Mistakes in {ex.exercise}, largest first: "
        + "; ".join(f"{m.title}, {_pct(m.share)} ({len(m.students)} of {n})" for m in ex.mistakes)
        + "."
    )
    bars = [
        f'<h4>Mistakes, largest first</h4><svg role="img" aria-labelledby="chart{chart}" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="chart{chart}">{_e(alt)}</title>'
    ]
    for i, m in enumerate(ex.mistakes):
        y = 2 + i * ROW
        label = f"{i + 1}. {m.title}"
        label = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        w = max(2, round(BAR_WIDTH * m.share))
        bars.append(
            f'<text x="0" y="{y + 14}">{_e(label)}</text>'
            f'<rect x="0" y="{y + 20}" width="{BAR_WIDTH}" height="14" fill="#eee"/>'
            f'<rect x="0" y="{y + 20}" width="{w}" height="14" fill="#c0392b"/>'
            f'<text x="{BAR_WIDTH + 8}" y="{y + 32}">{_pct(m.share)} ({len(m.students)} of {n})</text>'
        )
    bars.append("</svg>")
    return "".join(bars)


def _mistake_list(ex, names):
    items = []
    for m in ex.mistakes:
        params = ""
        if m.parameters:
            params = f' <span class="muted">Parameters: {_e(parameter_summary(ex.exercise, m.parameters))}.</span>'
        who = f'<div class="names">{_e(", ".join(m.students))}</div>' if names else ""
        items.append(
            f"<li><b>{_e(m.title)}</b> <code>{_e(m.label)}</code>, {_pct(m.share)}: {_e(m.sentence)}{params}{who}</li>"
        )
    return "<ol>" + "".join(items) + "</ol>"


def _gaps(ex, names):
    """Not answered, not judged, failed with no mistake named: apart from the mistakes, never ranked."""
    if not ex.gaps:
        return ""
    n = len(ex.graded)
    items = []
    for m in ex.gaps:
        why = "" if m.label in NOT_ATTEMPTED else f": {_e(m.sentence)}"
        who = f'<div class="names">{_e(", ".join(m.students))}</div>' if names else ""
        items.append(f"<li>{_e(m.title)}: {len(m.students)} of {n}{why}{who}</li>")
    return (
        '<h4>Not answered or not judged <span class="muted">(no mistake named)</span></h4>'
        f'<ul class="gaps">{"".join(items)}</ul>'
    )


def parameter_summary(exercise: str, counts: Any) -> str:
    """The parameters a mistake concerned, with the students it concerned in each, in few words: a whole
    network or layer is named as such ("all 15 (5 students each)"), not parameter by parameter."""
    try:
        net = lookup(exercise).network
    except ValueError:  # an exercise gradelib does not know (a by-hand task): its keys as they are
        net = None
    params = list(net.params) if net is not None else []
    if not params or not set(counts) <= set(params):
        parts, left = [], list(counts)
    elif set(counts) == set(params):
        parts, left = [f"all {len(params)}"], []
    else:
        assert net is not None  # params came from it
        hidden = list(net.hidden_params)
        layers = [(hidden, "hidden"), ([p for p in params if p not in hidden], "output")]
        full = [
            (group, f"all {len(group)} of the {where} layer")
            for group, where in layers
            if hidden and len(group) > 1 and set(group) <= set(counts)
        ]
        parts = [phrase for _, phrase in full]
        done = {p for group, _ in full for p in group}
        left = [p for p in params if p in counts and p not in done]
    values = set(counts.values())
    if len(values) == 1:  # the same students each time: say how many once
        (c,) = values
        return ", ".join(parts + left) + f" ({_students(c)}{' each' if len(counts) > 1 and c > 1 else ''})"
    return ", ".join(parts + [f"{p} ({_students(counts[p])})" for p in left]) + (
        f"; {min(values)} to {max(values)} students each" if parts else ""
    )


def _together(t, names):
    head = (
        f'<h2>Mistakes that travel together</h2><p class="muted">Two mistakes in different exercises that '
        f"at least {MIN_TOGETHER} students made both of (not counting unanswered or unjudged functions).</p>"
    )
    if not t.together:
        return head + "<p>None.</p>"
    rows = [
        '<table><tr><th scope="col">a mistake (students who made it)</th>'
        '<th scope="col">and a mistake (students who made it)</th>'
        '<th scope="col">students who made both</th></tr>'
    ]
    for g in t.together:
        who = f'<div class="names">{_e(", ".join(g.students))}</div>' if names else ""
        rows.append(
            f"<tr><td>{_e(g.first[0])} · {_e(g.first[1])}: {_e(_title(t, g.first))} ({g.first_count})</td>"
            f"<td>{_e(g.second[0])} · {_e(g.second[1])}: {_e(_title(t, g.second))} ({g.second_count})</td>"
            f"<td>{len(g.students)} ({_pct(len(g.students) / g.first_count)} of those with the first)"
            f"{who}</td></tr>"
        )
    return head + "".join(rows) + "</table>"


def _title(t, key):
    """The words of the mistake (assignment, exercise, label)."""
    return next((m.title for e in t.exercises if e.key == key[:2] for m in e.mistakes if m.label == key[2]), key[2])


def _attention(t, names):
    head = '<h2 id="look">Submissions to look at</h2>'
    if not t.attention:
        return head + "<p>None: every submission was graded and none was flagged.</p>"
    total = sum(len(a.who or a.students) for a in t.attention)
    rows = [
        f"<p>{_submissions(total)}, each on one row with all its reasons.</p>",
        '<table><tr><th scope="col">assignment</th><th scope="col">what happened</th>'
        '<th scope="col">why</th><th scope="col">submissions</th></tr>',
    ]
    for a in t.attention:
        who = f'<div class="names">{_e(", ".join(a.who or a.students))}</div>' if names else ""
        why = "".join(f"<li>{_e(r)}</li>" for r in a.reasons)
        rows.append(
            f"<tr><td>{_e(a.assignment)}</td><td>{_e(KIND_WORDS.get(a.kind, a.kind))}</td>"
            f'<td class="why"><ul>{why}</ul></td><td>{len(a.who or a.students)}{who}</td></tr>'
        )
    return head + "".join(rows) + "</table>"


CSV_FIELDS = [
    "section",
    "assignment",
    "exercise",
    "label",
    "title",
    "students",
    "of",
    "share",
    "sentence",
    "with_assignment",
    "with_exercise",
    "with_label",
    "names",
]
GAP_SECTION = {True: "not answered", False: "not judged"}  # CSV sections of an exercise's gaps, by NOT_ATTEMPTED


def csv_text(t: Tally, names: bool = False) -> str:
    """The report's figures as CSV, one row per count of submissions, passed count, mistake, gap, pair and
    submission to look at."""
    out = io.StringIO()
    w = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for kw in [*_count_rows(t), *_exercise_rows(t), *_together_rows(t), *_attention_rows(t)]:
        who = kw.pop("who", [])
        kw["names"] = "; ".join(who) if names else ""
        w.writerow(kw)
    return out.getvalue()


def _count_rows(t: Tally) -> Iterator[dict[str, Any]]:
    """Per assignment: the submissions its exercises count, and those they do not, by why."""
    for a in t.assignments:
        of = t.submissions.get(a, 0)
        yield dict(section="counted", assignment=a, students=len(t.counted.get(a, ())), of=of, who=t.counted.get(a, ()))
        for u in t.uncounted.get(a, ()):
            yield dict(
                section="not counted", assignment=a, students=len(u.students), of=of, sentence=u.why, who=u.students
            )


def _exercise_rows(t: Tally) -> Iterator[dict[str, Any]]:
    """Per exercise: how many passed, then each mistake and each gap."""
    for ex in t.exercises:
        n = len(ex.graded)
        share = f"{len(ex.passed) / n:.4f}" if n else ""
        where = dict(assignment=ex.assignment, exercise=ex.exercise)
        yield dict(section="passed", **where, students=len(ex.passed), of=n, share=share, who=ex.passed)
        for m in ex.mistakes + ex.gaps:
            yield dict(
                section="mistake" if m in ex.mistakes else GAP_SECTION[m.label in NOT_ATTEMPTED],
                **where,
                label=m.label,
                title=m.title,
                students=len(m.students),
                of=n,
                share=f"{m.share:.4f}",
                sentence=m.sentence,
                who=m.students,
            )


def _together_rows(t: Tally) -> Iterator[dict[str, Any]]:
    """The mistakes that travel together: the first's students who made the second too."""
    for g in t.together:
        yield dict(
            section="together",
            assignment=g.first[0],
            exercise=g.first[1],
            label=g.first[2],
            students=len(g.students),
            of=g.first_count,
            share=f"{len(g.students) / g.first_count:.4f}",
            with_assignment=g.second[0],
            with_exercise=g.second[1],
            with_label=g.second[2],
            who=g.students,
        )


def _attention_rows(t: Tally) -> Iterator[dict[str, Any]]:
    """The submissions to look at, by the weightiest of their reasons."""
    for item in t.attention:
        who = item.who or item.students
        yield dict(section=item.kind, assignment=item.assignment, students=len(who), sentence=item.reason, who=who)
