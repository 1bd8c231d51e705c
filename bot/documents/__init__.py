"""Document tasks done by sending a photo or PDF in chat; HR approves or rejects with a reason."""
