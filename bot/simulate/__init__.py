"""The journey simulator: synthetic candidates replayed through the real engine, planner and sender."""
