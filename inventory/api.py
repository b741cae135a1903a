"""Inventory API endpoints; registered on core.api.router."""
