"""Writes of the practices app."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .models import Doctor
from .tenancy import is_platform_admin

logger = logging.getLogger(__name__)


def doctor_set_verification(*, doctor: Doctor, status: str, decided_by) -> Doctor:
    """Verify or reject a doctor. Only platform admins decide; staff never verify their own."""
    if not is_platform_admin(decided_by):
        raise PermissionDenied("Only platform admins verify doctors.")
    if status not in (Doctor.Verification.VERIFIED, Doctor.Verification.REJECTED):
        raise ValueError(f"Unknown verification decision {status!r}")
    with transaction.atomic():
        doctor = Doctor.objects.select_for_update().get(pk=doctor.pk)
        if doctor.verification_status == status:
            return doctor
        doctor.verification_status = status
        doctor.verified_at = timezone.now()
        doctor.verified_by = decided_by
        doctor.save(update_fields=["verification_status", "verified_at", "verified_by"])
    logger.info("doctor.verification doctor=%s status=%s", doctor.public_id, status)
    return doctor
