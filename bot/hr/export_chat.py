"""`/export [cohort]` in chat: the HR member gets the candidates in their scope as an xlsx document.

Viewers may export (it only reads). Never sensitive fields: those come only from the CLI's --include-sensitive.
The file is written under <storage>/exports with a fresh name and deleted after a day (when a later export runs).
"""

from __future__ import annotations

from bot.engine.core import Router, Turn
from bot.hr import export
from bot.yamlsrc import suggest


class ExportHandlers:
    def register(self, router: Router) -> None:
        router.command("export", self.export, audience="hr", menu_key="cmd_export")

    def export(self, turn: Turn) -> None:
        settings, staff = turn.ctx.settings, turn.staff
        assert staff is not None  # the engine lets only HR through
        visible = sorted(c.id for c in settings.file.cohorts
                         if staff.everyone or c.department in staff.departments or c.id in staff.cohorts)
        args = turn.event.args
        if len(args) > 1:
            turn.say(turn.t("hr_export_usage", example=visible[0] if visible else "prod-2026-12"))
            return
        cohort = args[0] if args else None
        if cohort is not None and cohort not in settings.cohorts:
            turn.say(turn.t("hr_export_unknown_cohort", cohort=cohort, suggestion=suggest(cohort, visible),
                            cohorts=", ".join(visible) or "-"))
            return
        now = turn.ctx.clock.now()
        rows = export.build(turn.session, settings, turn.ctx.texts, cohort=cohort, scope=staff.where())
        scope = None if staff.everyone else ",".join(sorted(staff.departments | staff.cohorts))
        turn.audit("export", detail=export.audit_detail("xlsx", len(rows.rows), cohort, scope))
        if not rows.rows:
            turn.say(turn.t("hr_export_empty", cohort=cohort))
            return
        path = export.chat_file(settings, cohort, now)
        export.write(rows, path, "xlsx")
        what = cohort or turn.t("hr_export_all")
        at = now.astimezone(settings.tz).strftime(export.DATETIME_FORMAT)
        turn.media("document", str(path), turn.t("hr_export_caption", what=what, rows=len(rows.rows), at=at))
