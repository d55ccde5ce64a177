"""Date and time formats per language (FORMAT_MODULE_PATH), read before Django's own.

One format for every page, list, timeline, chart and e-mail: templates print dates with
`|date:"SHORT_DATETIME_FORMAT"` / `|date:"SHORT_DATE_FORMAT"` (or `|date` and `localize`,
which give the same), in the tenant's time zone.
"""
