"""The privacy engine's records: data map, consent, data-subject requests, retention, policy
versions, breaches and processors. (Filled in by the privacy-engine issue.)"""
