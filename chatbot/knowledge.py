"""What the bots know: a practice's FAQ entries and structured data, the help bot's fixed
entries, and the fixed answers (emergency, refusal, "I don't know"), each in the question's
language (German or English), whatever the language of the page."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from practices.models import InsuranceType, Practice, Weekday

from .retrieval import HELP, PRACTICE, Document, faq_document


def _in(language: str):
    return translation.override(language if language in dict(settings.LANGUAGES) else "de")


def practice_documents(practice: Practice, language: str) -> list[Document]:
    """The practice's FAQ entries (both languages) and its structured data in `language`."""
    documents = [
        faq_document(
            entry_id=entry.pk,
            language=entry.language,
            question=entry.question,
            answer=entry.answer,
            keywords=entry.keywords,
            position=entry.position,
        )
        for entry in practice.faq_entries.all()
    ]
    with _in(language):
        facts = {
            "address": _("You find %(name)s at %(street)s, %(postal_code)s %(city)s.")
            % {"name": practice.name, "street": practice.street, "postal_code": practice.postal_code, "city": practice.city},
            "insurance": _("%(name)s treats: %(types)s.")
            % {"name": practice.name, "types": ", ".join(str(InsuranceType(t).label) for t in practice.insurance_types)},
            "booking": _(
                "You can see free appointments and book one online on the practice's page at Terminfinder: "
                "choose a doctor, a visit reason and a free time."
            ),
            "cancel": _(
                "You can cancel your appointment online under “My appointments” until %(hours)s hours before "
                "it starts. Later than that, please call the practice."
            )
            % {"hours": practice.cancellation_deadline_hours},
        }
        hours = list(practice.opening_hours.all())
        if hours:
            facts["hours"] = _("Opening hours: %(hours)s.") % {
                "hours": "; ".join(
                    f"{Weekday(h.weekday).label} {h.opens:%H:%M}–{h.closes:%H:%M}" for h in hours
                )
            }
        contact = [practice.phone and _("phone %(phone)s") % {"phone": practice.phone},
                   practice.email and _("email %(email)s") % {"email": practice.email}]
        if any(contact):
            facts["contact"] = _("You can reach the practice by %(ways)s.") % {
                "ways": _(" or ").join(c for c in contact if c)
            }
    documents += [
        Document(source=f"practice:{topic}", kind=PRACTICE, language=language, answer=str(answer), topic=topic)
        for topic, answer in facts.items()
    ]
    return documents


def help_documents(language: str) -> list[Document]:
    """How to use Terminfinder: booking, cancelling, alerts, the account, export and deletion."""
    with _in(language):
        entries = {
            "booking": _(
                "Search for a practice or specialty on the home page, open a doctor's free appointments, choose a "
                "visit reason and a time and confirm with “Book now”. You need an account with a confirmed "
                "email address; the confirmation arrives by email."
            ),
            "cancel": _(
                "Open “My appointments”, choose the appointment and click “Cancel appointment”. Each "
                "practice sets how many hours before the appointment you can still cancel online; after that please "
                "call the practice."
            ),
            "alerts": _(
                "On a doctor's appointment page, choose “Notify me”: we email you when a matching appointment "
                "becomes free. You find and end your alerts under “Alerts”."
            ),
            "account": _(
                "Sign up with your email address and a password; we send you a link to confirm the address. Under "
                "“Account” you can change your details, your language and your password."
            ),
            "export": _(
                "Under “Account” you can download everything we store about you as a file (data export)."
            ),
            "deletion": _(
                "Under “Account” you can delete your account with your password. Your personal data is "
                "deleted; the practices keep your past appointments without your name."
            ),
        }
        answers = {topic: str(text) for topic, text in entries.items()}
    return [
        Document(source=f"help:{topic}", kind=HELP, language=language, answer=answer, topic=topic)
        for topic, answer in answers.items()
    ]


def emergency_answer(language: str, *, crisis: bool = False) -> str:
    with _in(language):
        text = _(
            "This sounds like an emergency. Please call the emergency number 112 now. If it is not life-threatening, "
            "the medical on-call service is available at 116117."
        )
        if crisis:
            text += " " + _(
                "If you are thinking about taking your own life, please talk to someone now: the Telefonseelsorge "
                "is available day and night, free of charge, at 0800 111 0 111 or 0800 111 0 222."
            )
        return str(text)


def greeting_answer(language: str, *, help_bot: bool = False, thanks: bool = False) -> str:
    with _in(language):
        if thanks:
            return str(_("You're welcome! If you have another practical question, just ask."))
        if help_bot:
            return str(_(
                "Hello! I help with using Terminfinder: booking, cancelling, alerts, your account, data export "
                "and deletion. Please do not enter personal or medical details."
            ))
        return str(_(
            "Hello! I answer practical questions about the practice: address and directions, opening hours, "
            "insurance, parking, what to bring, booking and cancelling. Please do not enter personal or medical "
            "details."
        ))


def refusal_answer(language: str) -> str:
    with _in(language):
        return str(_(
            "I can only answer practical questions (address, opening hours, insurance, booking). I cannot give "
            "medical advice: please ask the practice or your doctor."
        ))


def unknown_answer(language: str, phone: str = "") -> str:
    with _in(language):
        if phone:
            return str(_("I don't know — please call the practice at %(phone)s.") % {"phone": phone})
        return str(_("I don't know — please contact the practice directly."))


def help_unknown_answer(language: str) -> str:
    with _in(language):
        return str(_(
            "I don't know — I can help with booking, cancelling, alerts, your account, data export and deletion."
        ))
