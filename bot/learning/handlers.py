"""/learn, /points, /rewards and /resources; HR marks rewards delivered."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlmodel import col, select

from bot.engine.core import Router, Turn
from bot.flows.runner import FlowRunner
from bot.learning import points as ledger
from bot.learning.buttons import LearnButton, RewardButton, RewardDelivered
from bot.learning.model import LearningContent
from store.models import Candidate, LessonProgress, Redemption


class LearningHandlers:
    def __init__(self, library: LearningContent | Callable[[], LearningContent], runner: FlowRunner):
        # The content may change while the bot runs (bot.live): a function gives the current one.
        self._library: Callable[[], LearningContent] = library if callable(library) else (lambda: library)
        self.runner = runner

    @property
    def library(self) -> LearningContent:
        return self._library()

    def register(self, router: Router) -> None:
        router.command("learn", self.learn, audience="candidate", menu_key="cmd_learn")
        router.command("points", self.points, audience="candidate", menu_key="cmd_points")
        router.command("rewards", self.rewards, audience="candidate", menu_key="cmd_rewards")
        router.command("resources", self.resources, audience="candidate", menu_key="cmd_resources")
        router.button(LearnButton, self.learn_button, audience="candidate")
        router.button(RewardButton, self.reward_button, audience="candidate")
        router.button(RewardDelivered, self.delivered, audience="hr", writes=True)
        router.menu_entry(20, "learn", "menu_learn", self.learn)
        router.menu_entry(40, "points", "menu_points", self.points)
        router.menu_entry(60, "resources", "menu_resources", self.resources)

    # -- lessons ----------------------------------------------------------------------------------------------
    def learn(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None
        passed = {p.lesson_id for p in turn.session.exec(select(LessonProgress).where(
            LessonProgress.candidate_id == cand.id, col(LessonProgress.passed_at).is_not(None)))}
        lessons = sorted(self.library.lessons.values(), key=lambda ls: (not ls.suits(cand.role), ls.id in passed))
        if not lessons:
            turn.say(turn.t("learn_empty"), buttons=self.runner.main_menu(turn.locale))
            return
        rows = [{"title": ls.title[turn.locale], "minutes": ls.minutes, "points": ls.points, "done": ls.id in passed,
                 "mine": ls.suits(cand.role)} for ls in lessons]
        buttons = tuple((LearnButton("start", ls.id).button(("✅ " if ls.id in passed else "📘 ")
                                                             + ls.title[turn.locale]),) for ls in lessons)
        turn.say(turn.t("learn_list", lessons=rows, done=len(passed & set(self.library.lessons)),
                        total=len(lessons)), buttons=buttons)

    def learn_button(self, turn: Turn, data: LearnButton) -> None:
        action = data.action
        lesson = self.library.lessons.get(data.lesson)
        if action == "start" and lesson is not None:
            turn.say(turn.t("lesson_intro", title=lesson.title[turn.locale], minutes=lesson.minutes,
                            parts=len(lesson.parts), questions=len(lesson.quiz), points=lesson.points))
            self.runner.start(turn, f"lesson:{lesson.id}")
        elif action == "quiz" and lesson is not None:
            self.runner.start(turn, f"quiz:{lesson.id}", fresh=True)
        else:
            self.learn(turn)

    # -- points and rewards -------------------------------------------------------------------------------------
    def points(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        entries = ledger.history(turn.session, cand.id)
        lines = []
        for e in entries:
            what = self._entry_label(turn, e.reason, e.ref)
            lines.append({"date": turn.ctx.texts.format_date(turn.locale, e.at.astimezone(turn.ctx.settings.tz).date()),
                          "delta": e.delta, "what": what})
        turn.say(turn.t("points_view", balance=ledger.balance(turn.session, cand.id), entries=lines),
                 buttons=((RewardButton().button(turn.t("rewards_button")),),
                          (LearnButton().button(turn.t("learn_more_button")),)))

    def _entry_label(self, turn: Turn, reason: str, ref: str) -> str:
        kind, _, rest = ref.partition(":")
        if kind == "lesson" and rest in self.library.lessons:
            return turn.t("points_reason_lesson", title=self.library.lessons[rest].title[turn.locale])
        if kind == "redemption" and rest.isdigit():
            red = turn.session.get(Redemption, int(rest))
            reward = self.library.rewards.get(red.reward_id) if red else None
            return turn.t("points_reason_redemption", reward=reward.name[turn.locale] if reward else "")
        return turn.t("points_reason_other")

    def rewards(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        items = []
        buttons = []
        for r in self.library.rewards.values():
            left = max(0, r.stock - ledger.redeemed_count(turn.session, r.id))
            items.append({"name": r.name[turn.locale], "cost": r.cost, "left": left,
                          "description": r.description[turn.locale] if r.description else ""})
            if left:
                buttons.append((RewardButton("ask", r.id).button(f"🎁 {r.name[turn.locale]} · {r.cost}"),))
        turn.say(turn.t("rewards_list", balance=ledger.balance(turn.session, cand.id), rewards=items),
                 buttons=tuple(buttons))

    def reward_button(self, turn: Turn, data: RewardButton) -> None:
        action = data.action
        reward = self.library.rewards.get(data.reward)
        if action == "ask" and reward is not None:
            turn.say(turn.t("reward_confirm", name=reward.name[turn.locale], cost=reward.cost),
                     buttons=((RewardButton("ok", reward.id).button(turn.t("reward_confirm_button")),
                               RewardButton().button(turn.t("reward_cancel_button"))),))
        elif action == "ok" and reward is not None:
            self._redeem(turn, reward.id)
        else:
            self.rewards(turn)

    def _redeem(self, turn: Turn, reward_id: str) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        reward = self.library.rewards[reward_id]
        result = ledger.redeem(turn.session, cand.id, reward, turn.ctx.clock.now())
        name = reward.name[turn.locale]
        if result.outcome == "not_enough":
            turn.say(turn.t("reward_not_enough", name=name, cost=reward.cost, balance=result.balance),
                     buttons=((LearnButton().button(turn.t("learn_more_button")),),))
            return
        if result.outcome == "out_of_stock":
            turn.say(turn.t("reward_out_of_stock", name=name),
                     buttons=((RewardButton().button(turn.t("rewards_button")),),))
            return
        assert result.redemption is not None
        turn.say(turn.t("reward_done", name=name, balance=result.balance), buttons=self.runner.main_menu(turn.locale))
        redemption = result.redemption.id or 0
        texts = turn.ctx.texts
        turn.ctx.hr.tell(turn, cand, "hr_redemption",
                         lambda loc: {"number": redemption, "name": cand.name, "candidate_id": cand.id,
                                      "reward": reward.name[loc], "cost": reward.cost, "phone": cand.phone},
                         buttons=lambda loc: ((RewardDelivered(redemption).button(
                             texts.get(loc, "hr_redemption_delivered_button")),),))

    def delivered(self, turn: Turn, data: RewardDelivered) -> None:
        red = turn.session.get(Redemption, data.redemption)
        if red is None or not turn.in_scope(turn.session.get(Candidate, red.candidate_id)):
            turn.say(turn.t("button_expired"))
            return
        done = turn.session.execute(
            update(Redemption).where(col(Redemption.id) == red.id, col(Redemption.status) == "requested")
            .values(status="delivered", delivered_at=turn.ctx.clock.now(), delivered_by=turn.event.user_id))
        reward = self.library.rewards.get(red.reward_id)
        cand = turn.session.get(Candidate, red.candidate_id)
        if done.rowcount != 1:  # type: ignore[attr-defined]
            turn.say(turn.t("hr_redemption_already", number=red.id))
            return
        turn.audit("reward_delivered", red.candidate_id, f"redemption {red.id}")
        turn.say(turn.t("hr_redemption_marked", number=red.id, name=cand.name if cand else ""))
        if cand is not None and cand.telegram_chat_id is not None:
            loc = cand.language or turn.ctx.settings.default_locale
            turn.say(turn.ctx.texts.get(loc, "reward_delivered", name=reward.name[loc] if reward else red.reward_id),
                     chat_id=cand.telegram_chat_id)

    # -- resources --------------------------------------------------------------------------------------------
    def resources(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None
        mine = [r for r in self.library.resources if not r.departments or cand.department in r.departments]
        if not mine:
            turn.say(turn.t("resources_empty"))
            return
        links = [{"title": r.title[turn.locale], "url": r.url} for r in mine if r.url]
        turn.say(turn.t("resources_intro", links=links))
        files = [r for r in mine if r.file]
        # One media group, not one message per file: a burst into one chat would draw a 429 from Telegram.
        turn.files([str(turn.ctx.settings.content_dir / r.file[turn.locale]) for r in files if r.file],
                   [r.title[turn.locale] for r in files])
