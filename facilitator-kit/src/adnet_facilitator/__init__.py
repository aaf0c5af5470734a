"""adnet-facilitator: sponsored recommendations for x402 facilitators."""

from adnet_facilitator._version import __version__
from adnet_facilitator.client import (
    DEFAULT_MATCH_TIMEOUT,
    AdNetworkClient,
    ClientStats,
    Match,
    Recommendation,
)
from adnet_facilitator.events import EventStats
from adnet_facilitator.x402_hook import (
    EXTENSION_KEY,
    SponsoredAccessHook,
    attach,
)

__all__ = [
    "DEFAULT_MATCH_TIMEOUT",
    "EXTENSION_KEY",
    "AdNetworkClient",
    "ClientStats",
    "EventStats",
    "Match",
    "Recommendation",
    "SponsoredAccessHook",
    "__version__",
    "attach",
]
