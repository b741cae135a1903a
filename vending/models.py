"""Vending models."""
