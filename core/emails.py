"""The one canonical form of an account's e-mail address.

Every comparison of addresses (logging in, counting failed logins, sign-up, invitations,
password reset) goes through canonical_email(), so two spellings that are the same address for
one part of the code are the same for all of them. Comparing with the database's
case-insensitive match instead would let PostgreSQL's UPPER() fold characters Python keeps apart
(the dotless ı becomes I), and an attacker would get a fresh failure counter per spelling.

Canonical form: surrounding white space removed, Unicode NFKC (full-width letters, ſ and
ligatures become the plain letters they stand for, combining accents are composed), case-folded,
NFKC again (folding can undo it), as Unicode TR 36 recommends for identifiers and as Django's
password reset already compares.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q


def canonical_email(email: str) -> str:
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def has_lookalike_characters(email: str) -> bool:
    """Whether the address only becomes canonical by turning some characters into others.

    Letter case and the composition of accents do not count; full-width letters, ſ, ß,
    ligatures and the like do. Such an address is refused where one is stored (sign-up,
    invitations): mail would otherwise go to an address the person did not type, and a
    look-alike of a colleague's address could be invited.
    """
    composed = unicodedata.normalize("NFC", email.strip())
    return canonical_email(email) != composed.lower()


def _candidates(email: str) -> Any:
    canonical = canonical_email(email)
    # The case-insensitive match narrows the rows (and may find too many: PostgreSQL folds ı to
    # I); the canonical comparison in Python decides.
    return get_user_model().objects.filter(email__iexact=canonical).order_by("id"), canonical


def users_with_email(email: str) -> list[Any]:
    """The users whose address has the same canonical form as `email`, oldest first."""
    candidates, canonical = _candidates(email)
    return [user for user in candidates if canonical_email(user.email) == canonical]


def email_in_use(email: str) -> bool:
    """Whether an account holds this address, or one the database cannot tell apart from it.

    Stricter than users_with_email(): a new account must not differ from an existing one only
    by characters PostgreSQL folds together, so no two accounts can be confused anywhere.
    """
    canonical = canonical_email(email)
    users = get_user_model().objects
    return users.filter(Q(email__iexact=canonical) | Q(username__iexact=canonical)).exists()
