"""Builds the application in one place: settings, database, texts, engine and every capability."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bot.analytics.handlers import AnalyticsHandlers
from bot.broadcast.handlers import BroadcastHandlers
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.console import service as console_service
from bot.console.handlers import ConsoleHandlers
from bot.crypto import sealer_from_env
from bot.documents.handlers import DocumentHandlers
from bot.engine.core import AppContext, Engine, Router
from bot.faq.catalog import FaqError
from bot.faq.handlers import FaqHandlers
from bot.faq.runtime import FaqRuntime, load_checked
from bot.flows.checker import LibraryError
from bot.flows.handlers import FlowHandlers
from bot.flows.loader import load_flows
from bot.flows.model import FlowLibrary
from bot.flows.runner import FlowRunner
from bot.groups import service as groups_service
from bot.groups.handlers import BoardHandlers, FeedbackHandlers, GroupHandlers
from bot.hr.export_chat import ExportHandlers
from bot.hr.handlers import HrHandlers
from bot.i18n import Texts, TextsError
from bot.learning import flowparts as learning_flowparts
from bot.learning.handlers import LearningHandlers
from bot.learning.loader import load_lessons, load_rewards_and_resources
from bot.learning.model import LearningContent
from bot.live import LiveContent, LiveTexts, ReloadError
from bot.nudges.rules import RulesError, RuleSet, load_rules
from bot.onboarding.handlers import Onboarding
from bot.outbox.store import queue_outgoing
from bot.privacy.handlers import PrivacyHandlers
from bot.profile import flowparts as profile_flowparts
from bot.profile.handlers import ProfileHandlers
from bot.status.handlers import StatusHandlers
from bot.welcome import WelcomeMedia, load_welcome
from bot.yamlsrc import Problem
from store.db import Database

# A candidate marked withdrawn leaves their cohort's group (queued in the outcome's transaction).
console_service.on_withdrawn["groups"] = groups_service.queue_removal


class ContentError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Library(LearningContent, FlowLibrary):
    """flows/ and the learning content (lessons, rewards, resources), checked together: flows name lessons."""


def load_library(settings: Settings) -> Library:
    """Load and check flows and learning content; raise LibraryError with every problem in every file."""
    problems: list[Problem] = []
    lib = Library()
    lib.lessons = load_lessons(settings, problems)
    lib.flows = load_flows(settings, set(lib.lessons), problems)
    load_rewards_and_resources(settings, problems, lib)
    if problems:
        raise LibraryError(problems)
    return lib


@dataclass(frozen=True)
class Editable:
    """What the running bot re-reads after an edit (bot.live): texts, flows and the learning content, and the
    nudge rules checked against them. One version of all of them at a time."""

    texts: Texts
    library: Library
    rules: RuleSet


@dataclass
class Content:
    texts: Texts
    welcome: dict[str, WelcomeMedia]
    rules: RuleSet
    faq: FaqRuntime
    library: Library


def _load_editable(settings: Settings, problems: list[Problem]) -> tuple[Texts | None, Library, RuleSet]:
    texts = None
    try:
        texts = Texts.load(settings.content_dir, settings.locales, settings.default_locale)
    except TextsError as exc:
        problems.extend(exc.problems)
    library = Library()
    try:
        library = load_library(settings)
    except LibraryError as exc:
        problems.extend(exc.problems)
    rules = RuleSet()
    if texts is not None:  # rules name texts (and flows): they can be checked only once those load
        try:
            rules = load_rules(settings, texts, flows=set(library.flows))
            rules.flow_titles = {f.id: f.title for f in library.flows.values()}
        except RulesError as exc:
            problems.extend(exc.problems)
    return texts, library, rules


def load_editable(settings: Settings) -> Editable:
    """Texts, flows, lessons, rewards, resources and rules, with the checks of `hrbot validate` (ReloadError)."""
    problems: list[Problem] = []
    texts, library, rules = _load_editable(settings, problems)
    if problems or texts is None:
        raise ReloadError(problems)
    return Editable(texts, library, rules)


def editable_files(settings: Settings) -> list[Path]:
    """The files a live reload watches: every YAML file under content/ and flows/ but the FAQ's own (the FAQ
    reloads by itself) and the demo company's data."""
    faq = settings.file.faq
    own = {settings.content_path(f).resolve() for f in (faq.file, faq.intents_file, faq.pending_file)}
    demo = (settings.content_dir / "demo").resolve()
    found: list[Path] = []
    for root in dict.fromkeys((settings.content_dir.resolve(), settings.flows_dir.resolve())):
        if root.is_dir():
            found += [p for p in root.rglob("*.yaml") if p.resolve() not in own and demo not in p.resolve().parents]
    return found


def load_content(settings: Settings) -> Content:
    """Load content/ and report every problem at once."""
    problems: list[Problem] = []
    texts, library, rules = _load_editable(settings, problems)
    welcome, welcome_problems = load_welcome(settings.content_dir, set(settings.departments), settings.locales)
    problems.extend(welcome_problems)
    try:
        load_checked(settings)  # the index itself is built on first use (bot.faq.runtime)
    except FaqError as exc:
        problems.extend(exc.problems)
    if problems or texts is None:
        raise ContentError(problems)
    return Content(texts, welcome, rules, FaqRuntime(settings), library)


def build_engine(settings: Settings, db: Database, clock: Clock | None = None,
                 content: Content | None = None) -> Engine:
    content = content or load_content(settings)
    # Texts, flows and lessons are read through one holder that swaps versions whole after an edit (bot.live).
    live = LiveContent(lambda: load_editable(settings), lambda: editable_files(settings),
                       Editable(content.texts, content.library, content.rules))
    ctx = AppContext(settings=settings, db=db, texts=cast(Texts, LiveTexts(lambda: live.current().texts,
                                                                          lambda: live.version)),
                     clock=clock or SystemClock(), rules=content.rules, content_turn=live.turn)
    router = Router()
    engine = Engine(ctx, router, enqueue=queue_outgoing)
    Onboarding(engine, content.welcome, settings.content_dir).register(router)
    StatusHandlers(engine).register(router)
    FaqHandlers(engine, content.faq).register(router)
    old_keys = settings.env.old_secret_keys
    sealer = sealer_from_env(settings.env.secret_key.get_secret_value() if settings.env.secret_key else None,
                             old_keys.get_secret_value() if old_keys else None)
    ctx.sealer = sealer
    runner = FlowRunner(lambda: live.current().library, engine.main_menu)
    learning_flowparts.install(runner)
    profile_flowparts.install(runner, sealer)
    FlowHandlers(runner).register(router)
    LearningHandlers(lambda: live.current().library, runner).register(router)
    ProfileHandlers(runner, sealer).register(router)
    PrivacyHandlers(engine, runner).register(router)
    DocumentHandlers(engine).register(router)
    HrHandlers().register(router)
    ExportHandlers().register(router)
    lesson_titles = {k: dict(v.title) for k, v in content.library.lessons.items()}
    console = ConsoleHandlers(engine, lesson_titles)
    console.register(router)
    analytics = AnalyticsHandlers(engine, lesson_titles)
    analytics.register(router)
    console.card_notes.append(analytics.card_note)
    BroadcastHandlers(content.library.lessons).register(router)
    GroupHandlers(engine, content.faq).register(router)
    FeedbackHandlers(engine).register(router)
    BoardHandlers(engine).register(router)
    router.check()
    return engine
