"""Advertisers, campaigns, and the placements that matching creates from them."""
