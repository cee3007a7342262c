"""Local simulators of the channel platforms (``storesync sandbox PLATFORM --port N``).

Each ``sandbox/<platform>/`` package holds a shop's state in memory and speaks the platform's
documented protocol over real HTTP on 127.0.0.1, so the connectors cannot tell it from the
real platform. Tests, the demo and the benchmarks use them.
"""
