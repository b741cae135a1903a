"""Stored-value accounts, recharge orders, the double-entry ledger and the balance payment provider (the wallet issue fills it)."""
