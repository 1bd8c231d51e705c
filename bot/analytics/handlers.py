"""HR in chat: /stats [cohort], /atrisk [cohort] with one-tap actions, /report [cohort], and the risk line on the
candidate card. Everything is limited to the HR member's scope; a cohort outside it is answered as not found."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import ColumnElement

from bot.analytics import views
from bot.analytics.buttons import AtRiskCall
from bot.analytics.risk import reason_texts, score_candidates
from bot.analytics.stats import compute
from bot.console.buttons import CardAction, FindPick
from bot.engine.core import Engine, Router, Turn
from bot.engine.effects import Button
from store.models import Candidate

CARD_MEDIANS_SECONDS = 600.0  # the card reuses its cohort's medians this long (they move slowly)


class AnalyticsHandlers:
    def __init__(self, engine: Engine, lesson_titles: dict[str, dict[str, str]]):
        self.engine = engine
        self.lesson_titles = lesson_titles
        self._medians: dict[Any, Any] = {}

    def register(self, router: Router) -> None:
        router.command("stats", self.stats, audience="hr", menu_key="cmd_stats")
        router.command("atrisk", self.atrisk, audience="hr", menu_key="cmd_atrisk")
        router.command("report", self.report, audience="hr", menu_key="cmd_report")
        router.button(AtRiskCall, self.call, audience="hr")

    # -- helpers ------------------------------------------------------------------------------------------------
    def _titles(self, locale: str) -> dict[str, str]:
        return {k: v.get(locale, k) for k, v in self.lesson_titles.items()}

    def _cohort_arg(self, turn: Turn, usage_key: str) -> tuple[bool, str | None, ColumnElement[bool] | None]:
        """(ok, cohort, scope filter); answers bad input itself."""
        settings = turn.ctx.settings
        args = turn.event.args
        visible = views.visible_cohorts(settings, turn.staff)
        if len(args) > 1:
            turn.say(turn.t(usage_key, example=visible[0] if visible else "prod-2026-12"))
            return False, None, None
        cohort = args[0] if args else None
        try:
            return True, cohort, views.scope(settings, turn.staff, cohort)
        except views.CohortNotFound as err:
            turn.say(turn.t("stats_unknown_cohort", cohort=err.cohort, suggestion=err.suggestion,
                            cohorts=", ".join(err.visible) or "-"))
            return False, None, None

    # -- /stats -------------------------------------------------------------------------------------------------
    def stats(self, turn: Turn) -> None:
        ok, cohort, where = self._cohort_arg(turn, "stats_usage")
        if not ok:
            return
        ctx = turn.ctx
        stats = compute(turn.session, ctx.settings, list(self.lesson_titles), where=where, now=ctx.clock.now())
        turn.audit("stats", detail=cohort or "all")
        if stats.total == 0:
            turn.say(turn.t("stats_empty", cohort=cohort))
            return
        t = views.Say(ctx.texts, turn.locale)
        what = t("stats_cohort", cohort=cohort) if cohort else t("stats_all")
        titles = self._titles(turn.locale)
        turn.say(views.summary(stats, t, titles, what))
        for name, png in views.chart_set(stats, t, titles, cohort or t("stats_all")):
            path = views.chart_file(ctx.settings, f"stats-{name}").with_suffix(".png")
            path.write_bytes(png)
            turn.media("photo", str(path))

    # -- /atrisk ------------------------------------------------------------------------------------------------
    def atrisk(self, turn: Turn) -> None:
        ok, cohort, where = self._cohort_arg(turn, "stats_usage")
        if not ok:
            return
        ctx = turn.ctx
        th = ctx.settings.file.risk.thresholds
        found = views.at_risk(turn.session, ctx, ctx.clock.now(), where)
        turn.audit("atrisk", detail=f"{cohort or 'all'} listed={len(found.listed)}")
        if found.scored == 0:
            turn.say(turn.t("atrisk_empty", cohort=cohort))
            return
        if not found.listed:
            turn.say(turn.t("atrisk_none", cohort=cohort, threshold=th.at_risk_score, top=found.top))
            return
        people = views.names(turn.session, [r.candidate_id for r in found.listed])
        lines = [turn.t("atrisk_head", cohort=cohort, shown=len(found.listed), total=found.total,
                        threshold=th.at_risk_score)]
        rows: list[tuple[Button, ...]] = []
        can_act = turn.staff is not None and turn.staff.can_act
        for n, risk in enumerate(found.listed, 1):
            name, _phone, _ = people.get(risk.candidate_id, ("?", "", False))
            reasons = reason_texts(risk, ctx.settings, ctx.texts, turn.locale)
            lines.append(turn.t("atrisk_line", n=n, name=name, id=risk.candidate_id, score=risk.score,
                                cohort=None if cohort else risk.cohort_id))
            lines += [f"   – {r}" for r in reasons]
            row = [FindPick(risk.candidate_id).button(turn.t("atrisk_button_card", n=n, name=name)[:40]),
                   AtRiskCall(risk.candidate_id).button(turn.t("atrisk_button_call", n=n))]
            if can_act:
                row += [CardAction("msg", risk.candidate_id).button(turn.t("atrisk_button_note", n=n)),
                        CardAction("withdrawn", risk.candidate_id).button(turn.t("atrisk_button_withdrawn", n=n))]
            rows.append(tuple(row))
        turn.say("\n".join(lines), buttons=tuple(rows))

    def call(self, turn: Turn, data: AtRiskCall) -> None:
        cand = turn.session.get(Candidate, data.candidate)
        if cand is None or not turn.in_scope(cand):
            turn.say(turn.t("find_none", query=str(data.candidate)))
            return
        turn.audit("view_phone", cand.id)
        turn.say(turn.t("atrisk_call", name=cand.name, id=cand.id, phone=cand.phone,
                        unreachable=cand.unreachable_at is not None))

    # -- /report ------------------------------------------------------------------------------------------------
    def report(self, turn: Turn) -> None:
        ok, cohort, where = self._cohort_arg(turn, "stats_usage")
        if not ok:
            return
        ctx = turn.ctx
        now = ctx.clock.now()
        t = views.Say(ctx.texts, turn.locale)
        what = t("stats_cohort", cohort=cohort) if cohort else t("stats_all")
        turn.audit("report", detail=cohort or "all")
        if compute(turn.session, ctx.settings, list(self.lesson_titles), where=where).total == 0:
            turn.say(turn.t("stats_empty", cohort=cohort))
            return
        page = views.report_html(turn.session, ctx, now, where, t, self._titles(turn.locale), what,
                                 list(self.lesson_titles))
        path = views.chart_file(ctx.settings, f"report-{cohort or 'all'}").with_suffix(".html")
        path.write_text(page, encoding="utf-8")
        turn.media("document", str(path), turn.t("report_caption", what=what,
                                                 at=now.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M")))

    # -- the candidate card -------------------------------------------------------------------------------------
    def card_note(self, turn: Turn, cand: Candidate) -> str | None:
        """The risk line under the candidate card (a candidate with an outcome has none)."""
        if cand.id is None or cand.outcome is not None:
            return None
        ctx = turn.ctx
        now = ctx.clock.now()
        bucket = (int(now.timestamp() // CARD_MEDIANS_SECONDS), int(time.monotonic() // CARD_MEDIANS_SECONDS))
        if self._medians.get("bucket") != bucket:
            self._medians = {"bucket": bucket}
        risks = score_candidates(turn.session, ctx, now, where=Candidate.id == cand.id,  # type: ignore[arg-type]
                                 reference_cache=self._medians)
        if not risks:
            return None
        risk = risks[0]
        reasons = reason_texts(risk, ctx.settings, ctx.texts, turn.locale)
        return "\n".join([turn.t("card_risk", score=risk.score, reasons=reasons), *(f"   – {r}" for r in reasons)])
