"""Profit-sharing rules, the commission ledger, withdrawals, settlement and reconciliation."""
