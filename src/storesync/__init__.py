"""storesync: a self-hosted multichannel commerce operations hub with privacy enforced in code."""

__version__ = "0.1.0"
