"""Accounting models."""
