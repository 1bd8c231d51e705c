"""FAQ matcher: accuracy on the labelled sets and latency with the FAQ padded to 500 entries (issue 4).

    .venv/bin/python benchmarks/bench_faq.py

Figures, for the demo FAQ as shipped and for the same FAQ padded with generated look-alike entries to 500:
confident answers that are right (of in-scope questions), the right entry answered or suggested, confident wrong
answers (of all questions), out-of-scope questions answered with confidence, p50/p95/p99 latency per question,
the time to load the encoder and to build the index; and a plain rapidfuzz extractOne (WRatio, raw strings)
side by side as the baseline.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.config import EnvSettings, load_settings  # noqa: E402
from bot.faq.catalog import Faq, FaqEntry  # noqa: E402
from bot.faq.evaluate import Figures, evaluate, read_cases, wratio_baseline  # noqa: E402
from bot.faq.matcher import FaqIndex, UseEncoder  # noqa: E402
from bot.faq.runtime import load_checked  # noqa: E402

# Look-alike entries: plant topics the demo FAQ does not cover, asked the way candidates ask. They share words
# with real entries ("申请", "在哪里", "多少钱"), which is what makes padding a fair test of telling entries apart.
# Each has an answer in words, as real entries do (the matcher reads answers too).
SUBJECTS = [
    ("模具车间", "the mould shop"), ("质检实验室", "the QC lab"), ("员工图书室", "the staff library"),
    ("心理咨询", "counselling"), ("技能等级考试", "the skills exam"), ("夜校", "evening classes"),
    ("工会活动", "union activities"), ("篮球比赛", "the basketball match"), ("年会", "the annual party"),
    ("献血活动", "the blood drive"), ("员工超市", "the staff shop"), ("理发室", "the barber room"),
    ("快递柜", "the parcel lockers"), ("医务室", "the first-aid room"), ("自行车棚", "the bike shed"),
    ("宿舍维修", "dorm repairs"), ("工卡补办", "a replacement staff card"), ("储物柜", "the lockers"),
    ("意见箱", "the suggestion box"), ("安全培训证书", "the safety certificate"), ("消防演练", "the fire drill"),
    ("团建活动", "team building"), ("内部刊物", "the company magazine"), ("班车月票", "the shuttle pass"),
    ("加湿器", "humidifiers"), ("访客登记", "visitor registration"), ("失物招领", "lost and found"),
    ("员工子女夏令营", "the kids' summer camp"), ("普通话培训", "Mandarin classes"), ("电脑培训", "computer classes"),
]
PATTERNS = [
    ("{zh}在哪里", "Where is {en}?"), ("{zh}怎么申请", "How do I apply for {en}?"),
    ("{zh}要多少钱", "How much does {en} cost?"), ("{zh}什么时候开放", "When is {en} open?"),
    ("{zh}需要预约吗", "Do I need to book {en}?"), ("新员工可以参加{zh}吗", "Can new hires use {en}?"),
    ("{zh}找谁负责", "Who is in charge of {en}?"), ("{zh}有什么规定", "What are the rules for {en}?"),
    ("{zh}周末开不开", "Is {en} open at weekends?"), ("{zh}可以带朋友吗", "Can I bring a friend to {en}?"),
    ("{zh}要带什么证件", "What ID do I need for {en}?"), ("{zh}多久一次", "How often is {en}?"),
    ("{zh}能线上办理吗", "Can I do {en} online?"), ("{zh}有名额限制吗", "Is {en} limited?"),
    ("{zh}报名截止哪天", "When does sign-up for {en} close?"),
]


def padded(faq: Faq, size: int) -> Faq:
    entries = list(faq.entries)
    combos = itertools.product(range(len(SUBJECTS)), range(len(PATTERNS)))
    for n, (si, pi) in enumerate(combos):
        if len(entries) >= size:
            break
        zh, en = SUBJECTS[si]
        pz, pe = PATTERNS[pi]
        other = PATTERNS[(pi + 1) % len(PATTERNS)]
        questions = [pz.format(zh=zh), pe.format(en=en), other[0].format(zh=zh) + "呀", f"{zh}的{pz[-4:]}"]
        answers = {"zh-CN": f"{zh}的安排每月在公告栏和OA上公布,有问题可以问行政部。",
                   "en": f"The arrangements for {en} are posted monthly on the notice board and in OA; ask the "
                         "admin office if anything is unclear."}
        entries.append(FaqEntry(f"pad_{n}", questions, answers))
    return Faq(entries, "padded")


def run(label: str, faq: Faq, normalize: object, encoder: UseEncoder, settings: object, cases_by_set: dict) -> None:
    t0 = time.perf_counter()
    index = FaqIndex(faq, normalize, encoder, settings.file.faq)  # type: ignore[arg-type,attr-defined]
    built = time.perf_counter() - t0
    print(f"\n## {label}: {len(faq.entries)} entries, {sum(len(e.questions) for e in faq.entries)} example "
          f"questions; index built in {built:.2f} s")
    for name, cases in cases_by_set.items():
        index.match(cases[0].query)  # warm
        latencies: list[float] = []
        figures: Figures | None = None
        for _ in range(3):  # three passes: latency over all of them
            figures, _ = evaluate(cases, index.match)
            latencies += figures.latency_ms
        assert figures is not None
        lat = np.asarray(latencies)
        base, _ = evaluate(cases, wratio_baseline(faq))
        print(f"### {name} ({figures.questions} questions, {figures.in_scope} in scope, "
              f"{figures.out_of_scope} out of scope)")
        print("| figure | matcher | WRatio baseline |\n| --- | --- | --- |")
        for title, ours, theirs in [
            ("confident and right, of in-scope", figures.answered_right, base.answered_right),
            ("right entry answered or suggested, of in-scope", figures.right_in_reach, base.right_in_reach),
        ]:
            print(f"| {title} | {figures.share(ours, figures.in_scope):.1f}% | "
                  f"{base.share(theirs, base.in_scope):.1f}% |")
        print(f"| confident and wrong, of all | {figures.share(figures.answered_wrong, figures.questions):.1f}% | "
              f"{base.share(base.answered_wrong, base.questions):.1f}% |")
        print(f"| out-of-scope answered with confidence | "
              f"{figures.share(figures.oos_answered, figures.out_of_scope):.1f}% | "
              f"{base.share(base.oos_answered, base.out_of_scope):.1f}% |")
        print(f"| best-ranked entry right, of in-scope | {figures.share(figures.top1_right, figures.in_scope):.1f}% | "
              f"{base.share(base.top1_right, base.in_scope):.1f}% |")
        cpu: list[float] = []  # the thread's own CPU time: what the matcher costs, whatever else runs
        for case in cases:
            t0 = time.thread_time()
            index.match(case.query)
            cpu.append((time.thread_time() - t0) * 1000)
        blat = np.asarray(base.latency_ms)
        print(f"| latency p50 / p95 / p99 | {np.percentile(lat, 50):.2f} / {np.percentile(lat, 95):.2f} / "
              f"{np.percentile(lat, 99):.2f} ms | {np.percentile(blat, 50):.2f} / {np.percentile(blat, 95):.2f} / "
              f"{np.percentile(blat, 99):.2f} ms |")
        print(f"| CPU time p50 / p95 / p99 (matcher) | {np.percentile(cpu, 50):.2f} / {np.percentile(cpu, 95):.2f} / "
              f"{np.percentile(cpu, 99):.2f} ms | |")


def main() -> None:
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url="sqlite://"))
    t0 = time.perf_counter()
    faq, _, normalize = load_checked(settings)
    checked = time.perf_counter() - t0
    t0 = time.perf_counter()
    encoder = UseEncoder()
    encoder.encode(["预热"])
    loaded = time.perf_counter() - t0
    print(f"FAQ files read and checked in {checked:.2f} s; encoder loaded in {loaded:.2f} s")
    sets = {name: read_cases(ROOT / "tests" / "data" / f"{name}.csv", set(faq.by_id))
            for name in ("faq_cases", "faq_holdout")}
    run("demo FAQ as shipped", faq, normalize, encoder, settings, sets)
    run("padded to 500", padded(faq, 500), normalize, encoder, settings, sets)


if __name__ == "__main__":
    main()
