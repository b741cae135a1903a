"""Staff API endpoints (the clerk management issue adds them)."""
