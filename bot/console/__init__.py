"""The HR console in chat: /find and the candidate card, 1:1 threads between HR and a candidate (/msg), and
marking outcomes (attended, withdrawn with a reason) per candidate or per cohort (/attended)."""
