"""Polish dates as Polish writes them: 02.12.2026 14:05 (Django's own are 02-12-2026 and
"2 grudnia 2026"); everything else (numbers, input formats) stays Django's Polish."""

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
# A day in a chart's axis, next to the year shown elsewhere.
MONTH_DAY_FORMAT = "d.m"
