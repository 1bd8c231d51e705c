"""Phone numbers as E.164 strings, so the same person matches however HR or Telegram wrote the number."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str, region: str = "CN") -> str | None:
    """'138 0000 0001', '+86-13800000001', '8613800000001' -> '+8613800000001'; None if not a valid number."""
    text = str(raw).strip()
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    # Telegram sends contacts without '+' ("8613800000001"); try that reading first when it fits.
    candidates = [text]
    if not text.startswith("+") and len(digits) > 11:
        candidates.insert(0, "+" + digits)
    for cand in candidates:
        try:
            number = phonenumbers.parse(cand, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
