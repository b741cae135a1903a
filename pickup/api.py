"""Pickup API endpoints; registered on core.api.router."""
