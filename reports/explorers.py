"""Block-explorer links for transaction hashes, per CAIP-2 network."""

from urllib.parse import quote

# {hash} is replaced by the transaction hash. Networks not listed get no link.
TX_URLS: dict[str, str] = {
    "eip155:8453": "https://basescan.org/tx/{hash}",
    "eip155:84532": "https://sepolia.basescan.org/tx/{hash}",
    "eip155:137": "https://polygonscan.com/tx/{hash}",
    "eip155:43114": "https://snowtrace.io/tx/{hash}",
    "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp": "https://solscan.io/tx/{hash}",
    "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1": "https://solscan.io/tx/{hash}?cluster=devnet",
}


def tx_url(network: str, tx_hash: str) -> str:
    """The explorer page of a transaction, or "" when the hash or the network is unknown."""
    template = TX_URLS.get(network)
    if not template or not tx_hash:
        return ""
    return template.format(hash=quote(tx_hash, safe=""))
