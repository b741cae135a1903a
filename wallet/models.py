"""Wallet models."""
