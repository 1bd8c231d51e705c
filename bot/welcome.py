"""content/welcome.yaml: each department manager's welcome photo or video, with a caption per locale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.yamlsrc import Problem, YamlSyntaxError, load_file


@dataclass(frozen=True)
class WelcomeMedia:
    kind: str  # photo | video
    file: str  # relative to content/
    caption: dict[str, str]


def load_welcome(content_dir: Path, departments: set[str], locales: tuple[str, ...]) -> tuple[
        dict[str, WelcomeMedia], list[Problem]]:
    path = content_dir / "welcome.yaml"
    if not path.is_file():
        return {}, []
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        return {}, [exc.problem]
    problems: list[Problem] = []
    out: dict[str, WelcomeMedia] = {}
    data = doc.data or {}
    if not isinstance(data, dict):
        return {}, [doc.problem((), "must map department ids to {photo|video, caption}")]
    for dept, entry in data.items():
        where = (dept,)
        if dept not in departments:
            problems.append(doc.problem(where, f"unknown department {dept!r}; known: {', '.join(sorted(departments))}"))
            continue
        if not isinstance(entry, dict):
            problems.append(doc.problem(where, "expected 'photo:' or 'video:' and 'caption:'"))
            continue
        kinds = [k for k in ("photo", "video") if k in entry]
        unknown = set(entry) - {"photo", "video", "caption"}
        for key in sorted(unknown):
            problems.append(doc.problem((*where, key), f"unknown key {key!r}; use photo, video or caption"))
        if len(kinds) != 1:
            problems.append(doc.problem(where, "give exactly one of 'photo:' or 'video:'"))
            continue
        file = str(entry[kinds[0]])
        if not (content_dir / file).is_file():
            problems.append(doc.problem((*where, kinds[0]), f"file {file!r} not found under {content_dir}"))
        caption = entry.get("caption") or {}
        if not isinstance(caption, dict):
            problems.append(doc.problem((*where, "caption"), "caption must give a text per locale"))
            caption = {}
        for loc in locales:
            if not str(caption.get(loc, "")).strip():
                problems.append(doc.problem((*where, "caption"), f"missing {loc} caption; add a '{loc}:' line"))
        out[dept] = WelcomeMedia(kinds[0], file, {k: str(v) for k, v in caption.items()})
    return out, problems
