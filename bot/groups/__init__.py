"""Cohort groups (a Telegram group per cohort: join requests, welcomes, the weekly update, FAQ answers when
addressed, pins, removals), the feedback box (意见箱) with its 24-hour promise, and the cohort Q&A board."""
