"""Learning from use (issue "Content HR writes", part 2): what tapped suggestions would do to an FAQ.

    .venv/bin/python benchmarks/bench_faq_learning.py [retail|catering ...]   (default: retail)

On a set of ../shared/faq-bench/, the in-scope questions of each entry are split in two halves (alternately, in
file order). One half is fed as "tapped suggestions": each question becomes a proposal to add it as an example
question of its labelled entry, written to a pending file and merged with the project's own `hrbot faq merge`
code (bot.faq.pending.write_pending and merge), exactly as HR's review would. The FAQ's index is rebuilt and the
four figures are measured on the other half plus every out-of-scope question, before and after, with
bot.faq.evaluate and the matcher as `hrbot faq eval` uses them. Then the halves swap roles, and the two folds
are added up.

Two ways of feeding:
  all fed    every question of the fed half is added (what the issue asks to measure: the most it could do);
  tap-only   only the fed questions a candidate could actually have tapped: the FAQ as it was suggested their
             labelled entry (outcome "suggest" with that entry among the buttons). Questions answered at once, or
             left without the right suggestion, never produce a tap.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import EnvSettings, load_settings  # noqa: E402
from bot.faq.catalog import load_faq  # noqa: E402
from bot.faq.evaluate import Case, Figures, evaluate, read_cases  # noqa: E402
from bot.faq.matcher import FaqIndex  # noqa: E402
from bot.faq.pending import merge, write_pending  # noqa: E402
from bot.faq.runtime import load_checked, shared_encoder  # noqa: E402
from store.models import FaqProposal  # noqa: E402

BENCH = ROOT.parent / "shared" / "faq-bench"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def halves(cases: list[Case]) -> tuple[list[Case], list[Case]]:
    by_entry: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        if c.expected is not None:
            by_entry[c.expected].append(c)
    a = [c for group in by_entry.values() for c in group[0::2]]
    b = [c for group in by_entry.values() for c in group[1::2]]
    return a, b


def fed_faq(faq_path: Path, fed: list[Case], settings, normalize, workdir: Path) -> FaqIndex:  # type: ignore[no-untyped-def]
    """The FAQ after HR exported the proposals and ran `hrbot faq merge`."""
    target = workdir / "faq.yaml"
    target.write_text(faq_path.read_text(encoding="utf-8"), encoding="utf-8")
    pending_path = workdir / "faq.pending.yaml"
    pending_path.unlink(missing_ok=True)
    proposals = [FaqProposal(id=i, source="tap", entry_id=c.expected, question=c.query, question_key=normalize(c.query),
                             answer_locale="zh-CN", created_at=NOW) for i, c in enumerate(fed, 1)]
    write_pending(pending_path, proposals, settings.locales)
    result = merge(target, pending_path, settings.locales, normalize)
    assert not result.kept, result.kept
    faq = load_faq(target, settings.locales, normalize)
    return FaqIndex(faq, normalize, shared_encoder(), settings.file.faq)


def add(total: Figures | None, fig: Figures) -> Figures:
    if total is None:
        return fig
    for name in ("questions", "in_scope", "out_of_scope", "answered_right", "right_in_reach", "answered_wrong",
                 "oos_answered", "top1_right"):
        setattr(total, name, getattr(total, name) + getattr(fig, name))
    total.latency_ms += fig.latency_ms
    return total


def row(label: str, f: Figures) -> str:
    def pct(n: int, of: int) -> str:
        return f"{f.share(n, of):.1f}% ({n}/{of})"

    return (f"| {label} | {pct(f.answered_right, f.in_scope)} | {pct(f.right_in_reach, f.in_scope)} | "
            f"{pct(f.answered_wrong, f.questions)} | {pct(f.oos_answered, f.out_of_scope)} | "
            f"{f.share(f.top1_right, f.in_scope):.1f}% |")


def bench(name: str) -> None:
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url="sqlite://"))
    _, _, normalize = load_checked(settings)
    faq_path, cases_path = BENCH / name / "faq.yaml", BENCH / name / "cases.csv"
    faq = load_faq(faq_path, settings.locales, normalize)
    before = FaqIndex(faq, normalize, shared_encoder(), settings.file.faq)
    cases = read_cases(cases_path, set(before.ids))
    oos = [c for c in cases if c.expected is None]
    a, b = halves(cases)
    with cases_path.open(encoding="utf-8-sig", newline="") as f:
        kind_of = {row_no: row.get("kind") or "" for row_no, row in enumerate(csv.DictReader(f), start=2)}
    totals: dict[str, Figures | None] = {"before": None, "after, all fed": None, "after, tap-only": None}
    english: dict[str, Figures | None] = dict.fromkeys(totals)
    fed_counts = {"all": 0, "tap": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for fed, test in ((a, b), (b, a)):
            held = test + oos
            held_en = [c for c in test if kind_of.get(c.row) == "english"]
            tapped = []
            for c in fed:
                m = before.match(c.query)
                if m.outcome == "suggest" and c.expected in m.suggestions:
                    tapped.append(c)
            indexes = {"before": before, "after, all fed": fed_faq(faq_path, fed, settings, normalize, Path(tmp)),
                       "after, tap-only": fed_faq(faq_path, tapped, settings, normalize, Path(tmp))}
            for label, index in indexes.items():
                totals[label] = add(totals[label], evaluate(held, index.match)[0])
                english[label] = add(english[label], evaluate(held_en, index.match)[0])
            fed_counts["all"] += len(fed)
            fed_counts["tap"] += len(tapped)
    print(f"\n{name}: {len(faq.entries)} entries; {len(a) + len(b)} in-scope questions in two halves "
          f"({len(a)}/{len(b)}), {len(oos)} out of scope (in every test). Two folds added up; fed: "
          f"{fed_counts['all']} all, {fed_counts['tap']} tap-only.")
    print("| feeding | confident and right (in scope) | right entry answered or suggested | confident and wrong "
          "(all) | out of scope answered | best-ranked right |")
    print("| --- | --: | --: | --: | --: | --: |")
    for label, fig in totals.items():
        assert fig is not None
        print(row(f"{name}, {label}", fig))
    for label, fig in english.items():
        assert fig is not None
        print(row(f"{name}, English questions only, {label}", fig))


def main() -> None:
    for name in sys.argv[1:] or ["retail"]:
        bench(name)


if __name__ == "__main__":
    main()
