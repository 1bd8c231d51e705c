"""Loading content/lessons/*.yaml, content/rewards.yaml and content/resources.yaml, checked like flows are
(bot.flows.checker): every problem at once, FILE:LINE:COL, "did you mean" for ids, roles and departments.
"""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.flows.checker import Checker, load_doc
from bot.flows.model import L10n
from bot.learning.model import LearningContent, Lesson, LessonPart, QuizQuestion, Resource, Reward
from bot.yamlsrc import Path_, Problem, SourceDoc, did_you_mean

LESSON_KEYS = ("id", "title", "minutes", "roles", "points", "parts", "quiz")
PART_KEYS = ("text", "image", "video", "link", "caption")
QUESTION_KEYS = ("question", "options", "answer", "explanation")
REWARD_KEYS = ("id", "name", "cost", "stock", "description")
RESOURCE_KEYS = ("id", "title", "file", "url", "departments")


# -- lessons ------------------------------------------------------------------------------------------------

class _LessonChecker(Checker):
    def lesson(self) -> Lesson | None:
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("lesson"), dict):
            self.bad((), "a lesson file must start with `lesson:` (id, title, minutes, points, parts, quiz)")
            return None
        raw = data["lesson"]
        self.keys((), data, ("lesson",))
        p: Path_ = ("lesson",)
        self.keys(p, raw, LESSON_KEYS)
        lesson_id = self.ident(p, raw.get("id"), "the lesson")
        title = self.l10n((*p, "title"), raw.get("title"), "title")
        minutes = self.integer((*p, "minutes"), raw.get("minutes", 10), "minutes", 1, 120)
        points = self.integer((*p, "points"), raw.get("points", 0), "points", 0, 10_000)
        roles = raw.get("roles") or []
        if not isinstance(roles, list):
            self.bad((*p, "roles"), "roles must be a list of role ids (empty: every role)")
            roles = []
        for i, role in enumerate(roles):
            if role not in self.settings.roles:
                self.bad((*p, "roles", i), f"unknown role {role!r}{did_you_mean(str(role), list(self.settings.roles))}")
        parts = self.parts((*p, "parts"), raw.get("parts"))
        quiz = self.quiz((*p, "quiz"), raw.get("quiz"))
        if None in (lesson_id, title, minutes, points) or parts is None or quiz is None:
            return None
        assert lesson_id and title and minutes is not None and points is not None
        return Lesson(lesson_id, title, minutes, [str(r) for r in roles], points, parts, quiz, self.doc.file)

    def parts(self, path: Path_, value: Any) -> list[LessonPart] | None:
        if not isinstance(value, list) or not value:
            self.bad(path, "parts must be a list of bite-size parts (- text: ..., - image: ...)")
            return None
        out = []
        ok = True
        for i, raw in enumerate(value):
            pp = (*path, i)
            if not isinstance(raw, dict) or not any(k in raw for k in ("text", "image", "video", "link")):
                self.bad(pp, "each part needs one of: text, image, video, link")
                ok = False
                continue
            self.keys(pp, raw, PART_KEYS)
            part = LessonPart()
            if "text" in raw:
                part.text = self.l10n((*pp, "text"), raw["text"], "text", set())
            if "image" in raw:
                part.image = self.content_file((*pp, "image"), raw["image"], "image")
            if "video" in raw:
                part.video = self.content_file((*pp, "video"), raw["video"], "video")
            if "link" in raw:
                if not isinstance(raw["link"], str) or not raw["link"].startswith(("https://", "http://")):
                    self.bad((*pp, "link"), "link must be a web address starting with https://")
                else:
                    part.link = raw["link"]
            if "caption" in raw:
                part.caption = self.l10n((*pp, "caption"), raw["caption"], "caption", set())
            out.append(part)
        return out if ok else None

    def quiz(self, path: Path_, value: Any) -> list[QuizQuestion] | None:
        if not isinstance(value, list) or not 3 <= len(value) <= 5:
            self.bad(path, "quiz must be a list of 3 to 5 questions")
            return None
        out = []
        for i, raw in enumerate(value):
            qp = (*path, i)
            if not isinstance(raw, dict):
                self.bad(qp, "each question needs question, options, answer and explanation")
                continue
            self.keys(qp, raw, QUESTION_KEYS)
            question = self.l10n((*qp, "question"), raw.get("question"), "question", set())
            options_raw = raw.get("options")
            options: list[L10n] = []
            if not isinstance(options_raw, list) or not 2 <= len(options_raw) <= 4:
                self.bad((*qp, "options"), "options must be a list of 2 to 4 answers")
            else:
                for j, opt in enumerate(options_raw):
                    text = self.l10n((*qp, "options", j), opt, "option", set())
                    if text:
                        options.append(text)
            answer = raw.get("answer")
            n = len(options_raw) if isinstance(options_raw, list) else 0
            if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= max(n, 1):
                self.bad((*qp, "answer"), f"answer {answer!r} is not an option number: count the options from 1 "
                                          f"(this question has {n})")
                answer = None
            explanation = self.l10n((*qp, "explanation"), raw.get("explanation"), "explanation", set())
            if question and explanation and answer and len(options) == n:
                out.append(QuizQuestion(question, options, answer - 1, explanation))
        return out if len(out) == len(value) else None


# -- rewards and resources ------------------------------------------------------------------------------------

def _rewards(doc: SourceDoc, settings: Settings, problems: list[Problem]) -> dict[str, Reward]:
    c = Checker(doc, settings, problems)
    out: dict[str, Reward] = {}
    for p, raw in c.items("rewards", REWARD_KEYS, "id, name, cost and stock"):
        rid = c.ident(p, raw.get("id"), "the reward")
        name = c.l10n((*p, "name"), raw.get("name"), "name", set())
        cost = c.integer((*p, "cost"), raw.get("cost"), "cost", 1, 1_000_000)
        stock = c.integer((*p, "stock"), raw.get("stock"), "stock", 0, 1_000_000)
        desc = c.l10n((*p, "description"), raw["description"], "description", set()) if "description" in raw \
            else None
        if rid in out:
            c.bad((*p, "id"), f"duplicate reward id {rid!r}")
        elif rid and name and cost is not None and stock is not None:
            out[rid] = Reward(rid, name, cost, stock, desc)
    return out


def _resources(doc: SourceDoc, settings: Settings, problems: list[Problem]) -> list[Resource]:
    c = Checker(doc, settings, problems)
    out = []
    for p, raw in c.items("resources", RESOURCE_KEYS, "id, title and a file or url"):
        rid = c.ident(p, raw.get("id"), "the resource")
        title = c.l10n((*p, "title"), raw.get("title"), "title", set())
        files: dict[str, str] | None = None
        if "file" in raw:
            value = raw["file"]
            if isinstance(value, str):
                f = c.content_file((*p, "file"), value, "file")
                files = {loc: f for loc in settings.locales} if f else None
            elif isinstance(value, dict):
                files = {}
                for loc in settings.locales:
                    if loc not in value:
                        c.bad((*p, "file"), f"file: the {loc} version is missing")
                        continue
                    f = c.content_file((*p, "file", loc), value[loc], "file")
                    if f:
                        files[loc] = f
            else:
                c.bad((*p, "file"), "file must be a path, or one path per language")
        url = raw.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("https://", "http://"))):
            c.bad((*p, "url"), "url must be a web address starting with https://")
        if files is None and url is None and "file" not in raw:
            c.bad(p, "a resource needs a `file` or a `url`")
        depts = raw.get("departments") or []
        for j, d in enumerate(depts if isinstance(depts, list) else []):
            if d not in settings.departments:
                hint = did_you_mean(str(d), list(settings.departments))
                c.bad((*p, "departments", j), f"unknown department {d!r}{hint}")
        if rid and title and (files or url):
            out.append(Resource(rid, title, files, url, [str(d) for d in depts] if isinstance(depts, list) else []))
    return out


def load_lessons(settings: Settings, problems: list[Problem]) -> dict[str, Lesson]:
    """Load and check content/lessons/*.yaml; every problem goes to ``problems``."""
    lessons: dict[str, Lesson] = {}
    lessons_dir = settings.content_path(settings.file.learning.lessons_dir)
    lesson_first: dict[str, str] = {}
    for path in sorted(lessons_dir.glob("*.yaml")) if lessons_dir.is_dir() else []:
        doc = load_doc(path, problems, settings.locales)
        if doc is None:
            continue
        lesson = _LessonChecker(doc, settings, problems).lesson()
        if lesson is None:
            continue
        if lesson.id in lessons:
            problems.append(doc.problem(("lesson", "id"), f"duplicate lesson id {lesson.id!r} (also in "
                                                          f"{lesson_first[lesson.id]})"))
            continue
        lessons[lesson.id] = lesson
        lesson_first[lesson.id] = str(path)
    return lessons


def load_rewards_and_resources(settings: Settings, problems: list[Problem], into: LearningContent) -> None:
    """Load and check the rewards and resources files into ``into``; every problem goes to ``problems``."""
    policy = settings.file.learning
    for name, loader in (("rewards_file", _rewards), ("resources_file", _resources)):
        path = settings.content_path(getattr(policy, name))
        if path.is_file():
            doc = load_doc(path, problems, settings.locales)
            if doc is not None:
                result = loader(doc, settings, problems)
                if name == "rewards_file":
                    into.rewards = result  # type: ignore[assignment]
                else:
                    into.resources = result  # type: ignore[assignment]
