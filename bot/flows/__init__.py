"""Conversation flows as data (flows/*.yaml), lessons and quizzes (content/lessons/), rewards and resources."""
