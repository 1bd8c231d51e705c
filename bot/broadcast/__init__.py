"""Broadcasts: one message to many candidates, through the outbox (issue 10)."""
