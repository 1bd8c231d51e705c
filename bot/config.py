"""Settings: config.yaml (validated by pydantic) plus environment overrides. The only place settings are read."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.yamlsrc import Problem, SourceDoc, YamlSyntaxError, load_file, suggest

SHIPPED_LOCALES = ("zh-CN", "en")
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,47}$")
_DUE = re.compile(r"^([+-]?)(\d{1,3})d$")

Localized = dict[str, str]


def _admin_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{value!r} is not a numeric Telegram user id; HR admins are listed by their numeric id")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value!r} is not a valid id: use lower-case letters, digits, '_' or '-' (at most 48)"
        )
    return value


class _WithId(_Model):
    id: str

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_id(value)


class Company(_Model):
    name: Localized
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value


class Stage(_WithId):
    label: Localized
    todo: Localized | None = None
    timeline: bool = True  # False for side exits such as "withdrawn": shown only when current


class Department(_WithId):
    name: Localized
    manager: Localized | None = None


class Role(_WithId):
    name: Localized
    department: str


class Cohort(_WithId):
    name: Localized
    department: str
    training_date: date
    training_time: str | None = None
    location: Localized
    address: Localized | None = None
    capacity: int = Field(default=50, ge=1, le=100_000)

    @field_validator("training_time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        return None if value is None else _check_hhmm(value)


class Task(_WithId):
    title: Localized
    due: str = Field(description="relative to the training date, e.g. -5d")
    document: bool = False
    roles: list[str] = Field(default_factory=list, description="empty: every role")
    help: Localized | None = None

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        if not _DUE.match(str(value)):
            raise ValueError(f"{value!r} is not a relative day count; write e.g. -5d (5 days before training)")
        return value

    @property
    def due_offset(self) -> timedelta:
        m = _DUE.match(self.due)
        assert m is not None  # validated above
        days = int(m.group(2))
        return timedelta(days=-days if m.group(1) == "-" else days)

    def applies_to(self, role: str) -> bool:
        return not self.roles or role in self.roles


class Webhook(_Model):
    listen: str = "0.0.0.0"
    port: int = Field(default=8443, ge=1, le=65535)
    path: str = "telegram"


class TelegramSection(_Model):
    bot_username: str
    webhook: Webhook = Webhook()

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.lstrip("@")
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]{3,31}$", value):
            raise ValueError(f"{value!r} is not a Telegram bot username (letters, digits, '_', 5-32 long)")
        return value


class Invites(_Model):
    ttl_days: int = Field(default=60, ge=1, le=365)


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_hhmm(value: str) -> str:
    if not _HHMM.match(str(value)):
        raise ValueError(f"{value!r} is not a time of day; write it as HH:MM, e.g. 09:00")
    return str(value)


class QuietHours(_Model):
    start: Annotated[str, BeforeValidator(_check_hhmm)] = "21:00"
    end: Annotated[str, BeforeValidator(_check_hhmm)] = "09:00"

    def contains(self, hhmm: str) -> bool:
        """Whether a local time of day (HH:MM) falls in the quiet hours (which may span midnight)."""
        if self.start <= self.end:
            return self.start <= hhmm < self.end
        return hhmm >= self.start or hhmm < self.end


class NudgePolicy(_Model):
    """How often and when the bot may reach out on its own (HR's own messages are not counted)."""

    max_per_week: int = Field(default=2, ge=0, le=50, description="automated messages in any rolling 7 days")
    quiet_hours: QuietHours = QuietHours()
    tick_seconds: int = Field(default=60, ge=5, le=3600)
    rules_file: str = "flows/nudges.yaml"


class SenderPolicy(_Model):
    """Pacing of the outbox under Telegram's limits (about 30/s overall, 1/s per chat, 20/min per group)."""

    messages_per_second: float = Field(default=28, gt=0, le=30)
    per_chat_seconds: float = Field(default=1.0, ge=0)
    per_group_seconds: float = Field(default=3.0, ge=0)
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: float = Field(default=5.0, gt=0)


class BroadcastPolicy(_Model):
    """HR's broadcasts (/broadcast, hrbot broadcast)."""

    # Telegram's paid broadcasts: urgent broadcasts are sent with allow_paid_broadcast=True, which lets the bot
    # exceed 30 messages/s for a fee per message (Telegram Stars from the bot's balance). Off by default; the
    # sender's own pace (sender.messages_per_second) is not changed by it.
    paid_for_urgent: bool = False
    progress_seconds: float = Field(default=3.0, ge=1, le=60)  # HR's progress message is edited at most this often


class RateLimit(_Model):
    count: int = Field(default=20, ge=1, le=1000)
    seconds: int = Field(default=60, ge=1, le=86400)


class FaqPolicy(_Model):
    """Where the FAQ lives (files under content_dir) and when the bot answers by itself. Scores are 0-100."""

    file: str = "faq.yaml"
    pending_file: str = "faq.pending.yaml"
    intents_file: str = "intents.yaml"
    answer_score: float = Field(default=41, ge=0, le=100, description="answer at once from this score up")
    answer_margin: float = Field(default=5, ge=0, le=100,
                                 description="... and only when the next entry scores this much lower")
    answer_confidence: float = Field(default=53, ge=0, le=300,
                                     description="... and the score plus twice that lead reaches this")
    suggest_score: float = Field(default=28, ge=0, le=100, description="'did you mean' from this score up")
    max_suggestions: int = Field(default=3, ge=1, le=5)
    rate_limit: RateLimit = RateLimit()


class LearningPolicy(_Model):
    """Lessons, quizzes, points and rewards (files under content_dir; flows in flows_dir)."""

    pass_ratio: float = Field(default=0.6, gt=0, le=1, description="share of quiz answers right to pass")
    lessons_dir: str = "lessons"
    rewards_file: str = "rewards.yaml"
    resources_file: str = "resources.yaml"


class DocumentPolicy(_Model):
    """Files candidates send for document tasks."""

    storage_dir: str = "data/files"  # relative to config.yaml
    max_mb: float = Field(default=10, gt=0, le=20, description="Telegram lets bots download up to 20 MB")
    types: list[str] = Field(default_factory=lambda: ["image/jpeg", "image/png", "application/pdf"])


class GroupsPolicy(_Model):
    """Cohort groups (bot/groups)."""

    answers_per_minute: int = Field(
        default=10, ge=1, le=20, description="the most the bot says in one cohort group in any minute when asked "
        "there (Telegram allows 20): questions beyond it go unanswered, so a flood of mentions cannot make the bot "
        "flood the group")


class FeedbackPolicy(_Model):
    """The feedback box (意见箱): its promise and who sees who wrote."""

    answer_hours: int = Field(default=24, ge=1, le=168, description="HR answers within this many hours")
    remind_hours: int = Field(default=20, ge=1, le=167, description="HR is reminded when nobody answered by then")
    max_chars: int = Field(default=1000, ge=10, le=4000)
    anonymous_to_hr: bool = Field(default=False, description="true: HR does not see who sent anonymous feedback")


class RiskWeights(_Model):
    """Points each risk signal adds at full strength (the score is their sum, capped at 100)."""

    inactive: float = Field(default=30, ge=0, le=100, description="no interaction for longer than the cohort")
    lessons_behind: float = Field(default=20, ge=0, le=100, description="fewer lessons passed than the cohort")
    deadline_missed: float = Field(default=20, ge=0, le=100, description="a document task past its due date")
    deadline_near: float = Field(default=8, ge=0, le=100, description="a document task due within days")
    unreachable: float = Field(default=35, ge=0, le=100, description="blocked the bot")
    withdrawal_intent: float = Field(default=50, ge=0, le=100, description="said they might not come")
    open_ticket: float = Field(default=10, ge=0, le=100, description="a question or feedback left unanswered")
    faq_down_votes: float = Field(default=5, ge=0, le=100, description="voted an FAQ answer unhelpful")
    quiet_after_nudge: float = Field(default=15, ge=0, le=100, description="no reaction within 48 h of a nudge")
    training_soon: float = Field(default=10, ge=0, le=100, description="training close and work still open")


class RiskThresholds(_Model):
    """When a signal counts (days and hours are counted up to the moment scored)."""

    inactive_min_days: float = Field(default=3, ge=0, le=365, description="silence shorter than this never counts")
    inactive_full_days: float = Field(default=7, gt=0, le=365,
                                      description="days beyond the cohort's median at which it counts fully")
    lessons_behind_full: float = Field(default=3, gt=0, le=100, description="lessons behind that count fully")
    deadline_near_days: int = Field(default=3, ge=0, le=60, description="a document due this soon is near")
    ticket_unanswered_hours: float = Field(default=24, ge=0, le=720, description="open this long counts")
    nudge_quiet_hours: float = Field(default=48, gt=0, le=720, description="no interaction this long after a nudge")
    training_soon_days: int = Field(default=7, ge=0, le=60, description="training this close with work open")
    at_risk_score: int = Field(default=40, ge=1, le=100, description="/atrisk and the digest list from this score")
    atrisk_list: int = Field(default=10, ge=1, le=50, description="how many /atrisk shows")


class RiskPolicy(_Model):
    """The dropout risk score (bot/analytics/risk.py): transparent weights, reviewed by HR."""

    weights: RiskWeights = RiskWeights()
    thresholds: RiskThresholds = RiskThresholds()
    digest_time: str = Field(default="09:00", description="HR's daily digest, company time")

    @field_validator("digest_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        return _check_hhmm(value)


class RetentionPolicy(_Model):
    """How long data is kept (days); the daily retention job (bot/privacy/retention.py) removes what is older."""

    after_training_days: int = Field(default=180, ge=1, description="a candidate is anonymised this long after "
                                     "their cohort's training date")
    after_withdrawal_days: int = Field(default=30, ge=1, description="a withdrawn candidate is anonymised this "
                                       "long after the withdrawal")
    processed_updates_days: int = Field(default=7, ge=1)
    interactions_days: int = Field(default=365, ge=1)
    outbox_days: int = Field(default=180, ge=1, description="messages sent, failed, dropped or skipped")
    faq_queries_days: int = Field(default=180, ge=1)
    flow_sessions_days: int = Field(default=90, ge=1, description="finished flows")
    risk_signals_days: int = Field(default=180, ge=1)
    documents_days: int = Field(default=90, ge=1, description="document files after HR's decision")
    run_at: Annotated[str, BeforeValidator(_check_hhmm)] = Field(default="03:30",
                                                                 description="company time of the daily run")
    batch: int = Field(default=200, ge=1, le=10000, description="rows per transaction (kept short)")


class PrivacyPolicy(_Model):
    """Consent, retention (issue 13). The notice itself is content/<locale>/privacy.yaml."""

    notice_version: str = Field(default="1", min_length=1, max_length=20,
                                description="raise it (or edit the notice text) and candidates are asked again")
    retention: RetentionPolicy = RetentionPolicy()


class DatabaseSection(_Model):
    url: str = "sqlite:///data/hrbot.sqlite3"


class FileConfig(_Model):
    """config.yaml as written by HR and whoever deploys the bot."""

    company: Company
    default_locale: str = "zh-CN"
    phone_region: str = "CN"
    hr_admins: list[Annotated[int, BeforeValidator(_admin_id)]] = Field(default_factory=list)
    telegram: TelegramSection
    invites: Invites = Invites()
    database: DatabaseSection = DatabaseSection()
    nudges: NudgePolicy = NudgePolicy()
    sender: SenderPolicy = SenderPolicy()
    broadcasts: BroadcastPolicy = BroadcastPolicy()
    faq: FaqPolicy = FaqPolicy()
    learning: LearningPolicy = LearningPolicy()
    documents: DocumentPolicy = DocumentPolicy()
    feedback: FeedbackPolicy = FeedbackPolicy()
    groups: GroupsPolicy = GroupsPolicy()
    risk: RiskPolicy = RiskPolicy()
    privacy: PrivacyPolicy = PrivacyPolicy()
    flows_dir: str = "flows"
    content_dir: str = "content"
    stages: list[Stage]
    departments: list[Department]
    roles: list[Role]
    cohorts: list[Cohort] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)



class EnvSettings(BaseSettings):
    """Environment overrides; secrets never come from the repository."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    config_path: str = Field(default="config.yaml", validation_alias=AliasChoices("HRBOT_CONFIG"))
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org", validation_alias=AliasChoices("TELEGRAM_API_URL")
    )
    webhook_url: str | None = Field(default=None, validation_alias=AliasChoices("WEBHOOK_URL"))
    webhook_secret: SecretStr | None = Field(default=None, validation_alias=AliasChoices("WEBHOOK_SECRET"))
    secret_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("HRBOT_SECRET_KEY"))
    # Keys a rotation moves away from, comma-separated: still accepted for reading, never for writing.
    old_secret_keys: SecretStr | None = Field(default=None, validation_alias=AliasChoices("HRBOT_OLD_SECRET_KEYS"))


class ConfigError(Exception):
    """Every problem found in config.yaml, each with file:line:col."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Settings:
    """The validated file config, the environment, and what is derived from both."""

    def __init__(self, file: FileConfig, env: EnvSettings, base_dir: Path):
        self.file = file
        self.env = env
        self.base_dir = base_dir
        self.tz = ZoneInfo(file.company.timezone)
        self.stages = {s.id: s for s in file.stages}
        self.stage_order = [s.id for s in file.stages]
        self.departments = {d.id: d for d in file.departments}
        self.roles = {r.id: r for r in file.roles}
        self.cohorts = {c.id: c for c in file.cohorts}
        self.tasks = {t.id: t for t in file.tasks}
        self.hr_admins = frozenset(file.hr_admins)

    @property
    def locales(self) -> tuple[str, ...]:
        return SHIPPED_LOCALES

    def sender_hidden(self, kind: str, anonymous: bool | None) -> bool:
        """HR must not see who sent a ticket: anonymous feedback, when the company says so
        (feedback.anonymous_to_hr). Every place that shows HR a ticket's sender asks this."""
        return kind == "feedback" and bool(anonymous) and self.file.feedback.anonymous_to_hr

    @property
    def default_locale(self) -> str:
        return self.file.default_locale

    @property
    def content_dir(self) -> Path:
        return (self.base_dir / self.file.content_dir).resolve()

    @property
    def database_url(self) -> str:
        url = self.env.database_url or self.file.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            # A relative SQLite path is relative to config.yaml, not to wherever the command runs.
            url = prefix + str((self.base_dir / url[len(prefix) :]).resolve())
        return url

    @property
    def bot_token(self) -> str | None:
        token = self.env.telegram_bot_token
        return token.get_secret_value() if token else None

    @property
    def flows_dir(self) -> Path:
        return (self.base_dir / self.file.flows_dir).resolve()

    @property
    def storage_dir(self) -> Path:
        return (self.base_dir / self.file.documents.storage_dir).resolve()

    def content_path(self, relative: str) -> Path:
        """A content file named in config.yaml, relative to content_dir."""
        return (self.content_dir / relative).resolve()

    def invite_link(self, token: str) -> str:
        return f"https://t.me/{self.file.telegram.bot_username}?start={token}"

    def is_hr(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.hr_admins


def _did_you_mean(value: str, choices: list[str]) -> str:
    close = suggest(value, choices)
    if close:
        return f"; did you mean {close!r}?"
    return f"; known: {', '.join(choices)}" if choices else ""


LOCALIZED_FIELDS = {
    "stages": ("label", "todo"),
    "departments": ("name", "manager"),
    "roles": ("name",),
    "cohorts": ("name", "location", "address"),
    "tasks": ("title", "help"),
}


def _cross_checks(doc: SourceDoc) -> list[Problem]:
    """Rules that span sections: references between ids, duplicates, translations.

    They read the raw YAML, so they run even when some values have the wrong shape, and every problem is
    reported in one go.
    """
    data = doc.data
    problems: list[Problem] = []

    def items(section: str) -> list[tuple[int, dict[str, Any]]]:
        value = data.get(section)
        return [(i, it) for i, it in enumerate(value) if isinstance(it, dict)] if isinstance(value, list) else []

    def ids(section: str) -> list[str]:
        return [it["id"] for _, it in items(section) if isinstance(it.get("id"), str)]

    for section in ("stages", "departments", "roles", "cohorts", "tasks"):
        seen: set[str] = set()
        for i, item in items(section):
            ident = item.get("id")
            if isinstance(ident, str) and ident in seen:
                problems.append(doc.problem((section, i, "id"), f"duplicate {section[:-1]} id {ident!r}"))
            if isinstance(ident, str):
                seen.add(ident)

    locale = data.get("default_locale", "zh-CN")
    if isinstance(locale, str) and locale not in SHIPPED_LOCALES:
        problems.append(doc.problem(("default_locale",), f"unknown locale {locale!r}; shipped: "
                                    f"{', '.join(SHIPPED_LOCALES)}"))
    if isinstance(data.get("stages"), list) and not data["stages"]:
        problems.append(doc.problem(("stages",), "at least one stage is needed"))

    def reference(path: tuple[Any, ...], value: Any, known: list[str], what: str) -> None:
        if isinstance(value, str) and value not in known:
            problems.append(doc.problem(path, f"unknown {what} {value!r}{_did_you_mean(value, known)}"))

    dept_ids, role_ids = ids("departments"), ids("roles")
    for section in ("roles", "cohorts"):
        for i, item in items(section):
            reference((section, i, "department"), item.get("department"), dept_ids, "department")
    for i, task in items("tasks"):
        roles = task.get("roles")
        for j, role_id in enumerate(roles if isinstance(roles, list) else []):
            reference(("tasks", i, "roles", j), role_id, role_ids, "role")

    # Every text people read must exist in every shipped locale.
    def localized(path: tuple[Any, ...], value: Any) -> None:
        if not isinstance(value, dict):
            return
        for loc in SHIPPED_LOCALES:
            if not str(value.get(loc) or "").strip():
                problems.append(doc.problem(path, f"missing {loc} text; add a '{loc}:' line"))
        for loc in value:
            if loc not in SHIPPED_LOCALES:
                problems.append(doc.problem((*path, loc), f"unknown locale {loc!r}"
                                            f"{_did_you_mean(str(loc), list(SHIPPED_LOCALES))}"))

    company = data.get("company")
    if isinstance(company, dict):
        localized(("company", "name"), company.get("name"))
    for section, fields in LOCALIZED_FIELDS.items():
        for i, item in items(section):
            for name in fields:
                localized((section, i, name), item.get(name))
    return problems


def _pydantic_problems(doc: SourceDoc, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required key is missing; add it"
        elif err["type"] == "extra_forbidden":
            parent = _model_for(loc[:-1])
            known = sorted(parent.model_fields) if parent else []
            msg = f"unknown key{_did_you_mean(str(loc[-1]), known)}"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        problems.append(doc.problem(loc, f"{key}: {msg}"))
    return problems


def _model_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that a key path points into (for 'did you mean' on unknown keys)."""
    model: Any = FileConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        inner = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        model = inner
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def load_settings(config_path: str | Path | None = None, env: EnvSettings | None = None) -> Settings:
    """Read the environment and config.yaml; raise ConfigError listing every problem at once."""
    env = env or EnvSettings()
    path = Path(config_path or env.config_path)
    if not path.is_file():
        raise ConfigError(
            [Problem(str(path), 1, 1, "config file not found; set HRBOT_CONFIG or run from the project folder")]
        )
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        raise ConfigError([exc.problem]) from None
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "config.yaml must be a mapping of sections (company:, stages:, ...)")])
    problems = _cross_checks(doc)
    try:
        cfg = FileConfig.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(doc, exc))
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line, p.col)))
    return Settings(cfg, env, path.resolve().parent)
