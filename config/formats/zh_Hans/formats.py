"""Numbers in Simplified Chinese as money is written on receipts, statements and in payment apps:
a comma every three digits (23,440.95). Django's own zh_Hans formats have no thousands separator
and group by four; everything else (dates, input formats) comes from Django's module."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
