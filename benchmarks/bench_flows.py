"""Flows (issue 3): `hrbot validate` on 200 flows and lessons, and one flow step through the engine on SQLite.

    .venv/bin/python benchmarks/bench_flows.py [--flows 100] [--lessons 100] [--steps 5000]

The validate figure is the wall time of the real command in a fresh process (Python start-up and imports
included), on a copy of the project with generated flows (10 steps each: say, ask with a type and a retry, ask
with buttons, branch, do, end) and lessons (4 parts, a 5-question quiz) added to the shipped ones.
The step figure is engine.handle() for a candidate answering a flow question: a typed number that is checked,
saved and leads to the next question (a text step), then a button tap that leads back (a button step).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, engine_with_candidates, percentile

from bot.engine.effects import Say
from bot.engine.events import Event

FLOW = """\
flow:
  id: gen_{n}
  title: {{zh-CN: 生成流程{n}, en: Generated flow {n}}}
  steps:
    - id: hello
      say: {{zh-CN: "你好,{{{{ name }}}}", en: "Hello, {{{{ name }}}}"}}
    - id: size
      ask:
        text: {{zh-CN: "鞋码?", en: "Shoe size?"}}
        type: number
        regex: "3[5-9]|4[0-7]"
        retry: {{zh-CN: 请输入35到47, en: Type 35 to 47}}
        save_to: vars.size
    - id: sure
      ask:
        text: {{zh-CN: "{{{{ vars.size }}}} 码?", en: "Size {{{{ vars.size }}}}?"}}
        buttons:
          - {{id: ok, text: {{zh-CN: 对, en: Right}}}}
          - {{id: again, text: {{zh-CN: 重输, en: Retype}}, goto: size}}
    - id: check
      branch:
        - if: "vars.size | int > 45"
          goto: big
        - else: points
    - id: big
      do: notify_hr
      with:
        text: {{zh-CN: "大码 {{{{ vars.size }}}}", en: "Large {{{{ vars.size }}}}"}}
    - id: points
      do: award_points
      with: {{points: 5, ref: gen_{n}}}
    - id: learn
      lesson: gen_lesson_{n}
    - id: note
      say: {{zh-CN: 记下了, en: Noted}}
    - id: done
      end: {{zh-CN: 好的, en: OK}}
"""

LESSON = """\
lesson:
  id: gen_lesson_{n}
  title: {{zh-CN: 生成课程{n}, en: Generated lesson {n}}}
  minutes: 10
  points: 10
  parts:
{parts}
  quiz:
{quiz}
"""


def make_project(flows: int, lessons: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="hrbot-bench-flows-"))
    shutil.copy(ROOT / "config.yaml", root / "config.yaml")
    shutil.copytree(ROOT / "content", root / "content")
    shutil.copytree(ROOT / "flows", root / "flows")
    parts = "\n".join(f"    - text: {{zh-CN: 第{i}段内容, en: Part {i}}}" for i in range(4))
    quiz = "\n".join(
        f"    - question: {{zh-CN: 第{i}题, en: Question {i}}}\n"
        f"      options: [{{zh-CN: 甲, en: A}}, {{zh-CN: 乙, en: B}}, {{zh-CN: 丙, en: C}}]\n"
        f"      answer: {1 + i % 3}\n"
        f"      explanation: {{zh-CN: 因为, en: Because}}" for i in range(5))
    for n in range(max(flows, lessons)):
        (root / "content" / "lessons" / f"gen_{n:03d}.yaml").write_text(LESSON.format(n=n, parts=parts, quiz=quiz),
                                                                       encoding="utf-8")
        if n < flows:
            (root / "flows" / f"gen_{n:03d}.yaml").write_text(FLOW.format(n=n), encoding="utf-8")
    for path in sorted((root / "content" / "lessons").glob("gen_*.yaml"))[lessons:]:
        path.unlink()
    return root


def bench_validate(flows: int, lessons: int) -> list[float]:
    root = make_project(flows, lessons)
    hrbot = str(Path(sys.executable).parent / "hrbot")
    env = {**os.environ, "HRBOT_CONFIG": str(root / "config.yaml")}
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        done = subprocess.run([hrbot, "validate"], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        assert done.returncode == 0, done.stderr
    shutil.rmtree(root)
    return times


def bench_steps(steps: int) -> list[float]:
    engine, tokens = engine_with_candidates(200)
    users = list(range(10_000, 10_000 + len(tokens)))
    update = iter(range(1, 10**9))
    for uid, token in zip(users, tokens, strict=True):
        engine.handle(Event.parse_text(f"/start {token}", user_id=uid, chat_id=uid, update_id=next(update)))
        engine.handle(Event(kind="button", payload="go:shoe_size", callback_id="c", user_id=uid, chat_id=uid,
                            update_id=next(update)))
    retype: dict[int, str] = {}
    latencies = []
    for k in range(steps):
        uid = users[k % len(users)]
        if uid in retype:  # waiting at the confirm question: tap "retype" (goto back to the size question)
            ev = Event(kind="button", payload=retype.pop(uid), callback_id="c", user_id=uid, chat_id=uid,
                       update_id=next(update))
        else:  # waiting at the size question: type a number
            ev = Event.parse_text("42", user_id=uid, chat_id=uid, update_id=next(update))
        t0 = time.perf_counter()
        effects = engine.handle(ev)
        latencies.append(time.perf_counter() - t0)
        says = [e for e in effects if isinstance(e, Say)]
        if ev.kind == "text":
            buttons = [b for b in says[-1].buttons[-1]] if says and says[-1].buttons else []
            assert buttons, [s.text for s in says]
            retype[uid] = buttons[0].data
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--lessons", type=int, default=100)
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    times = bench_validate(args.flows, args.lessons)
    print(f"hrbot validate, {args.flows} generated flows + {args.lessons} generated lessons (plus the shipped ones): "
          f"min {min(times):.2f} s, median {sorted(times)[2]:.2f} s, max {max(times):.2f} s (5 runs)")
    lat = sorted(bench_steps(args.steps))
    print(f"flow step through the engine, {args.steps} steps, 200 candidates: p50 {percentile(lat, 50) * 1000:.2f} ms, "
          f"p99 {percentile(lat, 99) * 1000:.2f} ms, max {lat[-1] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
