"""Vending orders: slots and planograms, sale -> pay -> dispense -> done or auto-refund (the vending issue fills it)."""
