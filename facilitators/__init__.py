"""Facilitators and API credentials: who may call the network, and as what."""
