"""CAIP-2 networks, transports and payer addresses as the wire contract defines them."""

import re

KNOWN_NETWORKS: dict[str, str] = {
    "eip155:8453": "Base",
    "eip155:84532": "Base Sepolia",
    "eip155:137": "Polygon",
    "eip155:43114": "Avalanche C-Chain",
    "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp": "Solana",
    "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1": "Solana Devnet",
}

TRANSPORTS = ("http", "mcp", "a2a")

# CAIP-2: namespace [-a-z0-9]{3,8}, reference [-_a-zA-Z0-9]{1,32}.
_CAIP2 = re.compile(r"^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$")
_EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BASE58_ADDRESS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")
_GENERIC_ADDRESS = re.compile(r"^[0-9A-Za-z:._-]{1,128}$")


class AddressError(ValueError):
    """An address that cannot belong to the given network."""


def is_caip2(value: object) -> bool:
    return isinstance(value, str) and bool(_CAIP2.match(value))


def namespace(network: str) -> str:
    return network.split(":", 1)[0]


def normalize_address(network: str, address: object) -> str:
    """Canonical form of a wallet address so the same wallet always compares equal.

    EVM addresses are case-insensitive (the mixed case is only a checksum), so they are
    lowered; Solana base58 addresses are case-sensitive and kept as they are.
    """
    if not isinstance(address, str) or not address:
        raise AddressError("Must be a wallet address.")
    space = namespace(network)
    if space == "eip155":
        if not _EVM_ADDRESS.match(address):
            raise AddressError("Must be an EVM address: 0x followed by 40 hex digits.")
        return address.lower()
    if space == "solana":
        if not _BASE58_ADDRESS.match(address):
            raise AddressError("Must be a Solana address: 32 to 44 base58 characters.")
        return address
    if not _GENERIC_ADDRESS.match(address):
        raise AddressError("Must be an address of 1 to 128 letters, digits or :._-")
    return address
