"""A person's data: export it all (GDPR Art. 15/20) and delete the account (Art. 17).

This module sits in the lowest layer, so it knows no app above it: it walks every relation that
points at the user model. A model decides what its rows look like in an export with
`gdpr_export()` (default: its concrete fields, related objects as text), and what stays of
them when the person goes with `gdpr_anonymise(queryset)` (a classmethod run on the rows that
keep their place for the practice, i.e. relations with on_delete=SET_NULL).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .models import User

logger = logging.getLogger(__name__)

# Never exported: secrets and the machinery of the account, not data about the person.
SECRET_FIELDS = {"password", "data", "key", "idempotency_key", "session_key", "session_data"}


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def _row(obj: models.Model) -> dict:
    custom = getattr(obj, "gdpr_export", None)
    if callable(custom):
        return custom()
    row = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.name == "id":
            continue
        if field.is_relation:
            related = getattr(obj, field.name)
            row[field.name] = None if related is None else str(related)
        else:
            value = getattr(obj, field.attname)
            display = getattr(obj, f"get_{field.name}_display", None)
            row[field.name] = _plain(display() if callable(display) and field.choices else value)
    return row


def user_relations() -> list[models.ForeignObjectRel]:
    """Every relation from another model to the user (FK, one-to-one and many-to-many)."""
    return [
        rel
        for rel in User._meta.related_objects
        if rel.related_model is not LogEntry  # the admin's own audit trail, handled below
    ]


def user_export_data(*, user: User) -> dict:
    """Everything stored about `user`, as JSON-ready data."""
    account = _row(user)
    account.pop("is_superuser", None)
    data: dict = {"exported_at": timezone.now().isoformat(), "account": account, "records": {}}
    for rel in user_relations():
        model = rel.related_model
        if rel.many_to_many:
            rows = [str(obj) for obj in getattr(user, rel.get_accessor_name()).all()]
        else:
            queryset = model._default_manager.filter(**{rel.field.name: user}).order_by("pk")
            rows = [_row(obj) for obj in queryset]
        if rows:
            data["records"][model._meta.label] = rows
    return data


def _strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings_in(k), *_strings_in(v))]
    if isinstance(value, (list, tuple, set)):
        return [s for item in value for s in _strings_in(item)]
    return [value] if isinstance(value, str) else []


def _email_pattern(email: str) -> str:
    """The address as a whole word: not part of a longer one (anna@x.de in joanna@x.de or
    anna@x.de.com). A trailing dot that ends a sentence still counts as a boundary."""
    return r"(^|[^a-z0-9._%+\-])" + re.escape(email.lower()) + r"($|[^a-z0-9_.\-]|\.($|[^a-z0-9]))"


def _session_keys_of(user: User) -> list[str]:
    """Database sessions keep the user inside the encoded data: a signed-in user's id, or, half
    way through a login (e.g. waiting for the TOTP code), allauth's record with id and email."""
    keys = []
    pk, email = str(user.pk), user.email.lower()
    for session in Session.objects.iterator():
        data = session.get_decoded()
        login = data.get("account_login") or {}
        if (
            str(data.get("_auth_user_id")) == pk
            or str(data.get("account_authentication_methods_user")) == pk
            or str(login.get("user_pk")) == pk
            or email in (value.strip().lower() for value in _strings_in(data))
        ):
            keys.append(session.session_key)
    return keys


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete the account and every row holding the person's data.

    Rows the practices must keep (bookings) stay, anonymised: the relation is set to NULL by the
    database rule and the model's `gdpr_anonymise` clears free text. Everything else that points
    at the user goes with it (alerts, memberships, email addresses, authenticators, ...)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    for rel in user_relations():
        if rel.many_to_many or rel.on_delete is not models.SET_NULL:
            continue
        anonymise = getattr(rel.related_model, "gdpr_anonymise", None)
        if callable(anonymise):
            anonymise(rel.related_model._default_manager.filter(**{rel.field.name: user}))

    # The admin's log names objects by their text, and a user's or membership's text is the
    # email address: those entries go too.
    user_type = ContentType.objects.get_for_model(User)
    email = _email_pattern(user.email)
    LogEntry.objects.filter(
        Q(content_type=user_type, object_id=str(user.pk))
        | Q(object_repr__iregex=email)
        | Q(change_message__iregex=email)
    ).delete()
    Session.objects.filter(session_key__in=_session_keys_of(user)).delete()
    public_ref = user.pk
    user.delete()
    logger.info("account.deleted user=%s", public_ref)
