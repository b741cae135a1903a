"""Pickup-code orders: unique expiring hashed codes redeemed at lockers or store counters (the lockers issue fills it)."""
