"""English dates: 2 Dec 2026, 14:05. The day before the month's name reads the same on both
sides of the Atlantic, and the 24-hour clock matches the Polish pages a team shares."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
