"""Leasing models."""
