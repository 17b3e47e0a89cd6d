"""Identity resolution: one person per human (architecture, core step 5)."""
from pipelines.identity.link import link_persons

__all__ = ["link_persons"]
