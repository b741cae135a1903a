"""Lockers models."""
