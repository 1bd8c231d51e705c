"""Candidate pre-onboarding bot."""
