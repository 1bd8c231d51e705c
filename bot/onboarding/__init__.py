"""Binding a Telegram account to an imported candidate (invite link or shared phone) and the welcome."""
