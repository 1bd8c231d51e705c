"""Helpers for FAQ tests: a config whose FAQ files live in a temporary folder, so tests can edit them."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import Settings
from tests.conftest import ROOT, make_settings


def faq_settings(tmp_path: Path, db_url: str, faq_text: str | None = None) -> Settings:
    """The demo config and content, except that faq.yaml, intents.yaml and the pending file are copies in
    tmp_path (faq_text replaces faq.yaml when given)."""
    faq_dir = tmp_path / "faqfiles"
    faq_dir.mkdir(exist_ok=True)
    shutil.copy(ROOT / "content" / "intents.yaml", faq_dir / "intents.yaml")
    if faq_text is None:
        shutil.copy(ROOT / "content" / "faq.yaml", faq_dir / "faq.yaml")
    else:
        (faq_dir / "faq.yaml").write_text(faq_text, encoding="utf-8")
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = config.replace("  file: faq.yaml", f"  file: {faq_dir / 'faq.yaml'}")
    config = config.replace("  pending_file: faq.pending.yaml", f"  pending_file: {faq_dir / 'faq.pending.yaml'}")
    config = config.replace("  intents_file: intents.yaml", f"  intents_file: {faq_dir / 'intents.yaml'}")
    config += f"\ncontent_dir: {ROOT / 'content'}\n"
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    return make_settings(db_url, path, storage=tmp_path / "files")
