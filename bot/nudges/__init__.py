"""Nudges: timed, personal, capped automated messages, planned into the outbox."""
