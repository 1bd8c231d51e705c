"""What /stats, /atrisk, the digest and the report show, built once for chat and CLI alike: scope and cohort
checks, the summary text, the charts worth drawing, the at-risk list, the HTML report."""

from __future__ import annotations

import base64
import html
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select

from bot.analytics import charts
from bot.analytics.risk import CAND, Risk, reason_texts, score_candidates, top_at_risk
from bot.analytics.stats import Stats, compute
from bot.engine.staff import Staff
from bot.yamlsrc import suggest

C = CAND.c
KINDS = ("question", "withdrawal", "feedback")  # ticket kinds with a name in content/ (others show their id)


class CohortNotFound(Exception):
    """A cohort that does not exist or is outside the HR member's scope (answered alike)."""

    def __init__(self, cohort: str, visible: list[str]):
        self.cohort, self.visible = cohort, visible
        self.suggestion = suggest(cohort, visible) or ""
        super().__init__(cohort)


def visible_cohorts(settings: Any, staff: Staff | None) -> list[str]:
    return sorted(c.id for c in settings.file.cohorts
                  if staff is None or staff.everyone or c.department in staff.departments or c.id in staff.cohorts)


def scope(settings: Any, staff: Staff | None, cohort: str | None) -> Any:
    """The filter on Candidate for this member and cohort; CohortNotFound for a cohort they cannot see."""
    where = staff.where() if staff is not None else None
    if cohort is not None:
        visible = visible_cohorts(settings, staff)
        if cohort not in visible:
            raise CohortNotFound(cohort, visible)
        where = C.cohort_id == cohort if where is None else and_(where, C.cohort_id == cohort)
    return where


def waiting(where: Any) -> Any:
    """Candidates still waiting (no outcome yet): the ones risk is about."""
    return C.outcome.is_(None) if where is None else and_(where, C.outcome.is_(None))


# -- /stats --------------------------------------------------------------------------------------------------------
def summary(stats: Stats, t: Any, titles: dict[str, str], what: str) -> str:
    f = stats.funnel["all"]
    total = max(1, f["invited"])
    reasons = ", ".join(f"{t.reason(r)} {n}" for r, n in sorted(stats.withdrawn.items(), key=lambda x: -x[1]))
    lessons = "; ".join(t("stats_lesson_line", title=titles.get(row["id"], row["id"]), passed=row["passed"],
                          total=total, quiz=None if row["quiz"] is None else f"{row['quiz']:.0%}")
                        for row in stats.lessons)
    cohorts = [{"id": c, "f": stats.funnel[c]} for c in stats.cohorts] if len(stats.cohorts) > 1 else []
    tickets = "; ".join(t("stats_ticket_kind", kind=t(f"stats_kind_{k}") if k in KINDS else k,
                          median="-" if v["median_hours"] is None else v["median_hours"], open=v["open"])
                        for k, v in stats.tickets.items()) or t("stats_none")
    top = ", ".join(f"“{_short(q, 30)}” ×{n}" for q, n in stats.top_handed[:3])
    faq = t("stats_faq_none") if stats.self_service is None else \
        t("stats_faq", rate=f"{stats.self_service:.0%}", questions=stats.questions)
    nudges = t("stats_nudges", sent=stats.nudges_sent, back=stats.nudged_came_back,
               rate="-" if stats.comeback_rate is None else f"{stats.comeback_rate:.0%}")
    return t("stats_summary", what=what, f=f, reasons=f"({reasons})" if reasons else "", cohorts=cohorts,
             lessons=lessons, faq=faq, top=top, tickets=tickets, nudges=nudges)


def chart_set(stats: Stats, t: Any, titles: dict[str, str], label: str) -> list[tuple[str, bytes]]:
    """(name, PNG) of each view that has something to show: a view with no data gets no chart."""
    out = [("funnel", charts.funnel_png(stats, "all", label, t))]
    if any(row["started"] for row in stats.lessons):
        out.append(("lessons", charts.lessons_png(stats, titles, t)))
    if stats.questions or any(v["median_hours"] is not None for v in stats.tickets.values()):
        out.append(("support", charts.support_png(stats, t)))
    if stats.nudges_sent:
        out.append(("nudges", charts.nudges_png(stats, t)))
    return out


def chart_file(settings: Any, name: str) -> Path:
    """A fresh file under <storage>/exports (the adapter remembers Telegram's file id per path; pruned after a day
    like /export's files)."""
    from bot.hr.export import prune

    folder = settings.storage_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    prune(folder)
    return folder / f"{name}-{secrets.token_hex(4)}"


# -- /atrisk -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AtRisk:
    listed: list[Risk]  # at or above the threshold, highest first, at most `limit`
    total: int  # at or above the threshold
    scored: int  # everyone waiting in scope
    top: int  # the highest score


def at_risk(session: Any, ctx: Any, now: datetime, where: Any, limit: int | None = None) -> AtRisk:
    th = ctx.settings.file.risk.thresholds
    listed, total = top_at_risk(session, ctx, now, where=waiting(where), min_score=th.at_risk_score,
                                top=limit or th.atrisk_list)
    if listed:
        query = select(func.count()).select_from(CAND).where(waiting(where))
        return AtRisk(listed, total, int(session.execute(query).scalar_one()), listed[0].score)
    everyone = score_candidates(session, ctx, now, where=waiting(where))  # nobody above: "the highest is ..."
    return AtRisk([], 0, len(everyone), everyone[0].score if everyone else 0)


def names(session: Any, ids: list[int]) -> dict[int, tuple[str, str, bool]]:
    """id -> (name, phone, unreachable) for the candidates listed (one query)."""
    if not ids:
        return {}
    rows = session.execute(select(C.id, C.name, C.phone, C.unreachable_at).where(C.id.in_(ids)))
    return {cid: (name, phone, unreachable is not None) for cid, name, phone, unreachable in rows}


# -- the report ----------------------------------------------------------------------------------------------------
_CSS = """
body{font-family:"Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:0 auto;max-width:760px;
padding:12px;color:#222;font-size:17px;line-height:1.5}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.2em;margin:1.2em 0 .4em;border-bottom:2px solid #2f6fb0}
img{width:100%;height:auto;display:block;margin:.5em 0}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:6px 4px;text-align:left;vertical-align:top}th{background:#f2f6fb}
.score{font-weight:bold;color:#b0451f;white-space:nowrap}.muted{color:#666;font-size:.9em}pre{white-space:pre-wrap;
font-family:inherit}
@media print{body{max-width:none;font-size:12pt}h2{break-after:avoid}img,tr{break-inside:avoid}}
"""


def report_html(session: Any, ctx: Any, now: datetime, where: Any, t: Any, titles: dict[str, str], what: str,
                lesson_ids: list[str]) -> str:
    """One self-contained page: no external URL; the charts are embedded as data: URIs."""
    settings = ctx.settings
    stats = compute(session, settings, lesson_ids, where=where, now=now)
    risk = at_risk(session, ctx, now, where, limit=30)
    listed = names(session, [r.candidate_id for r in risk.listed])
    esc = html.escape
    at = now.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    company = settings.file.company.name[t.locale]
    parts = [f"<!DOCTYPE html><html lang=\"{esc(t.locale)}\"><head><meta charset=\"utf-8\">",
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(t('report_title', what=what))}</title><style>{_CSS}</style></head><body>",
             f"<h1>{esc(t('report_title', what=what))}</h1>",
             f"<p class=\"muted\">{esc(t('report_generated', at=at, company=company))}</p>"]
    if stats.total == 0:
        parts.append(f"<p>{esc(t('stats_empty', cohort=None))}</p></body></html>")
        return "".join(parts)
    pictures = dict(chart_set(stats, t, titles, what))
    parts.append(f"<h2>{esc(t('report_funnel'))}</h2>")
    parts.append(_img(pictures["funnel"], t("stats_chart_funnel", cohort=what)))
    parts.append(f"<pre>{esc(summary(stats, t, titles, what))}</pre>")
    parts.append(f"<h2>{esc(t('report_atrisk'))}</h2>")
    th = settings.file.risk.thresholds
    if not risk.listed:
        parts.append(f"<p>{esc(t('report_atrisk_none', threshold=th.at_risk_score))}</p>")
    else:
        parts.append(f"<table><tr><th>{esc(t('report_col_name'))}</th><th>{esc(t('report_col_score'))}</th>"
                     f"<th>{esc(t('report_col_reasons'))}</th></tr>")
        for r in risk.listed:
            name, phone, _ = listed.get(r.candidate_id, ("?", "", False))
            reasons = "<br>".join(esc(x) for x in reason_texts(r, settings, t.texts, t.locale))
            parts.append(f"<tr><td>{esc(name)} (#{r.candidate_id})<br><span class=\"muted\">{esc(phone)}</span></td>"
                         f"<td class=\"score\">{r.score}</td><td>{reasons}</td></tr>")
        parts.append("</table>")
    parts.append(f"<h2>{esc(t('report_figures'))}</h2>")
    for name in ("lessons", "support", "nudges"):
        if name in pictures:
            parts.append(_img(pictures[name], name))
    parts.append("</body></html>")
    return "".join(parts)


def _img(png: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}">')


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Say:
    """Texts in one language, callable like turn.t; carries the locale (and the withdrawal reasons' labels)."""

    def __init__(self, texts: Any, locale: str):
        self.texts, self.locale = texts, locale

    def __call__(self, key: str, **values: Any) -> str:
        return str(self.texts.get(self.locale, key, **values))

    def reason(self, reason: str) -> str:
        labels = self.texts.raw(self.locale, "withdraw_reasons") or {}
        return str(labels.get(reason, reason)) if isinstance(labels, dict) else reason
