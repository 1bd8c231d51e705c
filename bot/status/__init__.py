"""Where a candidate stands: stage, training date and place, days left, next steps, timeline."""
