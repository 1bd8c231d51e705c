"""The outbox: every proactive message is a row, sent at a pace Telegram accepts, exactly once."""
