"""Inventory models."""
