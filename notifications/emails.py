"""Rendering and sending of templated emails (HTML + plain text, German or English)."""

from __future__ import annotations

import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from .delivery import PermanentFailure


def render_email(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """(subject, text, html) of `templates/emails/<template>.{subject.txt,txt,html}`."""
    with translation.override(language if language in dict(settings.LANGUAGES) else "de"):
        context = {**context, "base_url": settings.TERMINFINDER_BASE_URL, "language": language}
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def _is_permanent(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def send_email(
    *,
    to: str,
    template: str,
    context: dict,
    language: str,
    attachments: list[tuple[str, bytes, str]] = (),
    headers: dict | None = None,
) -> None:
    """Send one email now. A 5xx refusal raises PermanentFailure; everything else that goes
    wrong on the way (connection refused, timeout, 4xx) is raised as is, for a retry."""
    subject, text, html = render_email(template, context, language)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[to], headers=headers or {},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    try:
        message.send()
    except (smtplib.SMTPException, OSError, socket.timeout) as error:
        if _is_permanent(error):
            raise PermanentFailure(str(type(error).__name__)) from error
        raise
