"""Numbers in Simplified Chinese as money is written on receipts, statements and in payment apps:
a comma every three digits (23,440.95). Django's own zh_Hans formats have no thousands separator
and group by four. Dates and times below; everything else (input formats) comes from Django's
module."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

# Dates and times as back-office software in China writes them in tables and exports
# (2026-12-06 15:20), the same as the English console: "2026年12月6日 03:59" made a list's three
# time columns push the table past the page.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
