"""Signals other apps subscribe to (the channels app, which privacy may not import).

Both are sent after the local change has committed, once per recipient that must act:
``propagation`` is a ``Propagation`` row; the receiver calls
``storesync.privacy.services.propagation_record_result`` when the platform confirms (or fails).
"""

from django.dispatch import Signal

# kwargs: workspace_id, request_id, propagation_id, recipient_type, recipient_id,
# customer_external_ids (the platform's ids, if known), emails_bidx (hex), scope
erasure_requested = Signal()
# kwargs: workspace_id, request_id, propagation_id, recipient_type, recipient_id,
# customer_id, fields (names changed; values are read through customers.selectors)
correction_requested = Signal()
