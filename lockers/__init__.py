"""Self-pickup locker orders: compartments, deposits, doors opened by code or QR (the lockers issue fills it)."""
