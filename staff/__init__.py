"""Staff: the user model, roles with fixed permission sets, login, and (later) clerk accounts,
refund limits and approvals, shifts, anomaly alerts and clerk performance."""
