"""Lessons and quizzes (run as flows), the points ledger and rewards."""
