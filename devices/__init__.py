"""The fleet: vending machines, locker banks and rental stations, their live status, telemetry,
faults and remote commands (the devices issue fills most of it)."""
