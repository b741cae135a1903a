"""Gateway models."""
