"""The personal information centre: legal name, ID number (encrypted), education, emergency contact."""
