"""Mail problems and hold reasons in the seller's words, with the server's own answer."""

from __future__ import annotations

from django.utils.translation import gettext as _

from notifications.models import HoldReason, MailProblem, OutgoingMail


def hold_reason_text(reason: str) -> str:
    """A hold reason code in words; a reason a caller gave as a sentence stays as it is."""
    if reason in HoldReason.values:
        return str(HoldReason(reason).label)
    return reason


def problem_text(problem: str) -> str:
    if problem in MailProblem.values:
        return str(MailProblem(problem).label)
    return problem


def server_answer(row: OutgoingMail) -> str:
    """The last answer of the mail server in words, e.g. "Accepted by the server: 250 Ok" or
    "The server refused the message. The server said: 550 5.7.1 …"."""
    said = (
        f"{row.reply_code} {row.reply_text}" if row.reply_code is not None else row.reply_text
    ).strip()
    if row.reply_code is not None and 200 <= row.reply_code < 300:
        return _("Accepted by the server: %(said)s") % {"said": said}
    if row.problem and said:
        return _("%(problem)s. The server said: %(said)s") % {
            "problem": problem_text(row.problem),
            "said": said,
        }
    if row.problem:
        return _("%(problem)s.") % {"problem": problem_text(row.problem)}
    return said
