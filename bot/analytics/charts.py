"""Charts for /stats and the report: PNGs drawn headless (matplotlib's Agg) in Noto Sans SC, which ships with the
project (the pylopdf-fonts-zh-cn package, SIL Open Font License 1.1), so Chinese labels never come out as boxes
whatever fonts the server has. Sized for a phone: 1080 px wide, large type, one message per chart.

Every label is a text from content/ in the reader's language."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.analytics.stats import STEPS, Stats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_IN, DPI = 7.2, 150  # 1080 px wide
BAR = "#2f6fb0"
MUTED = "#9db8d6"
WARN = "#d0612f"
_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe
_font_ready = False


def font_path() -> Path:
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


def _mpl() -> Any:
    """matplotlib, imported on first use (it takes a while; most processes never draw): Agg, no display, ever."""
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


def font_name() -> str:
    """Register the shipped font once; its family name."""
    global _font_ready
    _mpl()
    from matplotlib import font_manager

    path = font_path()
    if not _font_ready:
        font_manager.fontManager.addfont(str(path))
        _font_ready = True
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def _figure(height_in: float) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _style() -> dict[str, Any]:
    return {"font.family": [font_name()], "font.size": 15, "axes.titlesize": 20,
            "axes.titlelocation": "left", "axes.labelsize": 15, "xtick.labelsize": 14, "ytick.labelsize": 15}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _hbars(title: str, labels: list[str], values: list[float], notes: list[str], limit: float | None = None,
           colors: list[str] | None = None, footer: str | None = None) -> bytes:
    """Horizontal bars, top to bottom, each with its figure written at its end."""
    with _lock, _mpl().rc_context(_style()):
        fig, ax = _figure(1.4 + 0.62 * len(labels) + (0.4 if footer else 0))
        ys = list(range(len(labels)))[::-1]
        ax.barh(ys, values, color=colors or BAR, height=0.62)
        ax.set_yticks(ys, labels)
        top = limit if limit is not None else max(values + [1]) * 1.0
        ax.set_xlim(0, top * 1.5)  # room for the figure after the longest bar
        ax.set_xticks([])
        ax.spines[["bottom"]].set_visible(False)
        for y, v, note in zip(ys, values, notes, strict=True):
            ax.text(v + top * 0.02, y, note, va="center", fontsize=14)
        fig.suptitle(title, x=0.03, ha="left", fontsize=20)  # from the figure's edge: long titles stay whole
        if footer:
            fig.text(0.02, 0.015, footer, fontsize=12, color="#555555")
        fig.tight_layout(rect=(0, 0.05 if footer else 0, 1, 1))
        return _png(fig)


def funnel_png(stats: Stats, key: str, label: str, t: Any) -> bytes:
    """The funnel of one cohort (or "all"): candidates at each step, with the share of those invited."""
    f = stats.funnel[key]
    steps = list(STEPS) + ["withdrawn"]
    values = [float(f.get(s, 0)) for s in steps]
    invited = max(1, f.get("invited", 0))
    notes = [f"{int(v)} ({v / invited:.0%})" for v in values]
    colors = [BAR] * len(STEPS) + [WARN]
    return _hbars(t("stats_chart_funnel", cohort=label), [t(f"stats_step_{s}") for s in steps], values, notes,
                  limit=float(invited), colors=colors)


def lessons_png(stats: Stats, titles: dict[str, str], t: Any) -> bytes:
    """Per lesson: the share of candidates who passed it, and the quiz average."""
    total = max(1, stats.total)
    labels = [_short(titles.get(row["id"], row["id"]), 22) for row in stats.lessons]
    values = [row["passed"] / total * 100 for row in stats.lessons]
    notes = [t("stats_chart_lesson_note", passed=row["passed"],
               quiz="-" if row["quiz"] is None else f"{row['quiz']:.0%}") for row in stats.lessons]
    return _hbars(t("stats_chart_lessons"), labels, values, notes, limit=100.0,
                  footer=t("stats_chart_lessons_footer"))


def support_png(stats: Stats, t: Any) -> bytes:
    """Questions and tickets: self-service rate, and the median hours to an answer per ticket kind."""
    labels: list[str] = []
    values: list[float] = []
    notes: list[str] = []
    colors: list[str] = []
    if stats.self_service is not None:  # only rows with something to show
        labels.append(t("stats_chart_self_service"))
        values.append(100 * stats.self_service)
        notes.append(f"{stats.self_service:.0%} ({stats.questions})")
        colors.append(BAR)
    answered = {k: v for k, v in stats.tickets.items() if v["median_hours"] is not None}
    longest = max([v["median_hours"] for v in answered.values()] + [1])
    for kind, row in answered.items():
        labels.append(t("stats_chart_ticket_kind", kind=t(f"stats_kind_{kind}") if _has(t, kind) else kind))
        values.append(100 * row["median_hours"] / longest)
        notes.append(t("stats_chart_ticket_note", hours=row["median_hours"], open=row["open"]))
        colors.append(MUTED)
    return _hbars(t("stats_chart_support"), labels, values, notes, limit=100.0, colors=colors,
                  footer=t("stats_chart_support_footer"))


def nudges_png(stats: Stats, t: Any) -> bytes:
    sent, back = stats.nudges_sent, stats.nudged_came_back
    labels = [t("stats_chart_nudges_sent"), t("stats_chart_nudges_back")]
    values = [float(sent), float(back)]
    notes = [str(sent), f"{back} ({(back / sent) if sent else 0:.0%})"]
    return _hbars(t("stats_chart_nudges"), labels, values, notes, limit=float(max(1, sent)), colors=[MUTED, BAR])


def _has(t: Any, kind: str) -> bool:
    return kind in ("question", "withdrawal", "feedback")


def _short(text: str, limit: int) -> str:
    """Cut to ``limit`` columns, a Chinese character counting two (so labels leave room for the bars)."""
    width, out = 0, list[str]()
    for ch in text:
        width += 2 if ord(ch) > 0x2E80 else 1
        if width > limit:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return text


def write(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
