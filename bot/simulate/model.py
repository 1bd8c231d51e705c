"""The behaviour model of the journey simulator: who the synthetic candidates are and what they do.

Written apart from the risk score (bot/analytics/risk.py) on purpose, and without reading it: the simulator
decides what people *do*; the score only ever sees the traces that behaviour leaves in the database (messages,
lesson progress, uploads, tickets, blocked chats). `hrbot risk evaluate` on a simulated run then measures whether
the score reads behaviour, not whether it repeats the simulator's rules. README.md ("The journey simulator")
explains the model for HR; the numbers below are its only source.

Each candidate has hidden traits, drawn once from the run's seed:

* ``propensity`` p in [0, 1] (Beta with mean = the run's dropout rate, concentration 4): the chance they finally
  withdraw (a coin with probability p, so the share of leavers is the dropout rate on average), and it damps how
  engaged they are every day, leaver or not: ``engagement = chattiness * (1 - 0.6 p)``.
* ``chattiness`` (log-normal around 1): some people write and tap a lot, some little, whatever they intend.
* ``diligence`` s (Beta(4, 2)): how likely a quiz answer is right (0.5 + 0.45 s) and how early documents are
  handed in; independent of p, so a careful leaver and a careless stayer both exist.
* the language (85% zh-CN, 15% en) and the hour of the day they are usually on their phone (evening mostly).

What a day looks like, for someone who has not withdrawn and whose training has not come yet:

* they open the bot on a given day with probability ``min(0.85, 0.3 * engagement * drift)``; in a session they
  take their next lesson (55%; the quiz answered with their accuracy; a failed quiz is retried with probability
  ``0.5 * engagement``), ask a question from content/faq.yaml's examples in their language (35% times
  chattiness; they vote on 15% of the answers, 👎 a quarter of those), or look at /status (30%).
* documents: each document task has a day they get round to it, ``6 * s`` days before its deadline give or take
  3 (after it, for some); that day they send a photo and tap the task. HR approves uploads twice a working day.
* a message from the bot (a nudge, a notice, HR's answer) brings them back within 5-180 minutes with
  probability ``min(0.9, 0.5 * engagement * drift)``; otherwise it is ignored.
* ``drift``: a leaver decides on a day drawn evenly between arrival and the eve of training; over the 3-14 days
  before that, their engagement fades linearly to 15% of what it was; after it, they do nothing more.
  A stayer's engagement rises by a third in the last week before training.
* a leaver writes a withdrawal message in their language (content/intents.yaml's examples) on the day they
  decide with probability 0.65 (HR then marks them withdrawn, with a reason, at its next round, through the
  console's outcome path); the others simply go quiet (a third of them block the bot) and do not come to
  training (HR marks them withdrawn, no_show, on the training day). Everyone else is marked attended on the
  training day.
* 3% + 8% p never start the bot at all (their link unused).

Nothing here looks at days since the last interaction, lessons behind the cohort or any other feature the
score computes: those are consequences of the rates above, read back from the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

WITHDRAW_REASONS = (("other_job", 0.5), ("family", 0.15), ("pay", 0.15), ("location", 0.1), ("health", 0.05),
                    ("other", 0.05))


@dataclass
class Persona:
    """One synthetic candidate's hidden traits and plans (none of it is in the database)."""

    index: int
    locale: str
    propensity: float
    chattiness: float
    diligence: float
    hour: float  # the hour of day they are usually online
    cohort: str
    role: str
    department: str
    arrival: date  # the day HR imports them and sends the link
    bind_delay_hours: float | None  # None: never starts the bot
    withdraws: bool
    decide: date | None  # the day a leaver decides (after which they do nothing)
    drift_days: int
    says_why: bool  # writes a withdrawal message (else goes quiet)
    blocks: bool  # blocks the bot when going quiet
    reason: str
    doc_lead: dict[str, float] = field(default_factory=dict)  # task id -> days before the deadline they hand in
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def engagement(self, day: date, training: date) -> float:
        """How active they are on ``day`` (1.0 = an average candidate), with the leaver's fading drift."""
        base = self.chattiness * (1.0 - 0.6 * self.propensity)
        if self.decide is not None:
            if day >= self.decide:
                return 0.0
            left = (self.decide - day).days
            if left <= self.drift_days:
                base *= 0.15 + 0.85 * (left - 1) / max(1, self.drift_days)
        elif (training - day).days <= 7:
            base *= 4 / 3
        return base

    def session_chance(self, day: date, training: date) -> float:
        return min(0.85, 0.3 * self.engagement(day, training))

    def answers_nudge(self, day: date, training: date) -> float:
        return min(0.9, 0.5 * self.engagement(day, training))

    def quiz_right(self) -> float:
        return 0.5 + 0.45 * self.diligence


def draw_personas(seed: int, n: int, dropout: float, cohorts: list[tuple[str, str, date, list[str]]],
                  start: date, days: int) -> list[Persona]:
    """``n`` candidates over ``cohorts`` [(id, department, training date, roles)], arriving during the run.

    Each candidate gets a generator of its own (seeded from the run's seed and its index), so one candidate's
    draws never shift another's: the run is the same for a seed whatever order things happen in."""
    concentration = 4.0
    a, b = concentration * dropout, concentration * (1.0 - dropout)
    out = []
    last = start + timedelta(days=days - 1)
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        cohort_id, department, training, roles = rng.choice(cohorts)
        p = rng.betavariate(a, b) if 0 < dropout < 1 else dropout
        withdraws = rng.random() < p
        # Arrival: 7-35 days before training, within the run (on its first day when the cohort is sooner).
        earliest = max(start, training - timedelta(days=35))
        latest = min(max(earliest, training - timedelta(days=7)), last)
        arrival = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
        never = rng.random() < 0.03 + 0.08 * p
        decide = None
        if withdraws:
            span = (training - arrival).days - 1
            decide = arrival + timedelta(days=1 + rng.randint(0, max(0, span - 1)))
        says_why = rng.random() < 0.65
        persona = Persona(
            index=i, locale="en" if rng.random() < 0.15 else "zh-CN", propensity=p,
            chattiness=rng.lognormvariate(0.0, 0.4), diligence=rng.betavariate(4, 2),
            hour=min(22.5, max(7.0, rng.gauss(19.5, 2.5))), cohort=cohort_id, role=rng.choice(roles),
            department=department, arrival=arrival,
            bind_delay_hours=None if never else rng.expovariate(1 / 10),
            withdraws=withdraws, decide=decide, drift_days=rng.randint(3, 14), says_why=says_why,
            blocks=not says_why and rng.random() < 1 / 3,
            reason=rng.choices([r for r, _ in WITHDRAW_REASONS], [w for _, w in WITHDRAW_REASONS])[0], rng=rng)
        out.append(persona)
    return out
