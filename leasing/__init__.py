"""Lease orders: rentable assets, rate plans, deposits held in the wallet, billing by actual usage time (the leasing issue fills it)."""
