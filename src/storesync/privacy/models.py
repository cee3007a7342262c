"""The privacy engine's records: data map, consent, data-subject requests, retention, policy
versions, breaches and processors. Each part keeps its models in its own module."""

from storesync.privacy.consent_models import (
    ConsentEntry,
    GuardianConsent,
    PrivacySettings,
    SubjectAge,
)
from storesync.privacy.governance_models import (
    Breach,
    BreachSubject,
    PolicyAcceptance,
    PolicyMailing,
    PolicyStaffNotice,
    PolicyVersion,
    Processor,
)

__all__ = [
    "Breach",
    "BreachSubject",
    "ConsentEntry",
    "GuardianConsent",
    "PolicyAcceptance",
    "PolicyMailing",
    "PolicyStaffNotice",
    "PolicyVersion",
    "PrivacySettings",
    "Processor",
    "SubjectAge",
]
