"""Conversions and the ledger: what the network can prove, and what the advertiser pays for it."""
