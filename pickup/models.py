"""Pickup models."""
