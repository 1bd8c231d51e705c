"""FAQ self-service: match a free-text question to content/faq.yaml, answer it, or hand it to HR."""
