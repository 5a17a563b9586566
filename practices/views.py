"""The public practice page: address, opening hours, doctors, visit reasons, FAQ."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from .models import Doctor, InsuranceType, Practice


def practice_detail(request, public_id):
    practice = get_object_or_404(
        Practice.objects.prefetch_related(
            "opening_hours",
            Prefetch(
                "doctors",
                queryset=Doctor.objects.filter(verification_status=Doctor.Verification.VERIFIED).select_related("specialty"),
                to_attr="verified_doctors",
            ),
        ),
        public_id=public_id,
        is_active=True,
    )
    language = (get_language() or "de")[:2]
    faq = list(practice.faq_entries.filter(language=language)) or list(practice.faq_entries.all())
    return render(
        request,
        "practices/practice_detail.html",
        {
            "practice": practice,
            "faq": faq,
            "visit_reasons": practice.visit_reasons.filter(is_active=True),
            "insurance_labels": [InsuranceType(value).label for value in practice.insurance_types],
        },
    )
