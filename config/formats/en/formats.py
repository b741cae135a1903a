"""Dates and times in English as a back office reads them: year-month-day and a 24-hour clock
(2026-12-06 15:20), the same order as in Chinese, in exports and in the date boxes. Django's
own English formats ("Dec. 6, 2026, 3:20 p.m.") wrapped a list's time column over five lines.
Everything else (input formats, numbers) comes from Django's module."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "m-d"
YEAR_MONTH_FORMAT = "Y-m"
