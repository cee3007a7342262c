"""The privacy engine's records: data map, consent, data-subject requests, retention, policy
versions, breaches and processors. Each part keeps its models in its own module."""

from storesync.privacy.requests_models import (
    DataSubjectRequest,
    LegalHold,
    Propagation,
    RetentionRun,
    RightsSettings,
    SubjectRestriction,
)

__all__ = [
    "DataSubjectRequest",
    "LegalHold",
    "Propagation",
    "RetentionRun",
    "RightsSettings",
    "SubjectRestriction",
]
