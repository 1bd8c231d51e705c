"""Analytics: the dropout risk score and its evaluation, /stats and its charts, /atrisk, the daily digest, the
HTML report."""
