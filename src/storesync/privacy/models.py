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
from storesync.privacy.requests_models import (
    DataSubjectRequest,
    LegalHold,
    Propagation,
    RetentionRun,
    RightsSettings,
    SubjectRestriction,
)

__all__ = [
    "Breach",
    "BreachSubject",
    "ConsentEntry",
    "DataSubjectRequest",
    "GuardianConsent",
    "LegalHold",
    "PolicyAcceptance",
    "PolicyMailing",
    "PolicyStaffNotice",
    "PolicyVersion",
    "PrivacySettings",
    "Processor",
    "Propagation",
    "RetentionRun",
    "RightsSettings",
    "SubjectAge",
    "SubjectRestriction",
]
