"""HR tools: stage changes from chat, spreadsheet import and listings from the CLI."""
