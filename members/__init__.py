"""Customers (phone as the key) and, as the members issue fills it: levels, points,
classification, promotions, coupons and feedback."""
