"""What a chain says a transaction did, as plain values, and the claims judged against it."""

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Transfer:
    """One movement of a token: `amount` atomic units of `asset` from `sender` to `recipient`.

    Addresses are in the network's canonical form (EVM lower-cased, Solana as is)."""

    asset: str
    sender: str
    recipient: str
    amount: int


@dataclass(frozen=True)
class Observation:
    """A transaction as a chain answered for it.

    `found` False: the node knows no such transaction (yet). `final` False: it is in a block,
    but not yet as deep as the network's policy wants."""

    found: bool
    succeeded: bool = False
    final: bool = False
    at: dt.datetime | None = None
    transfers: tuple[Transfer, ...] = ()

    @classmethod
    def missing(cls) -> "Observation":
        return cls(found=False)


@dataclass(frozen=True)
class Claim:
    """What someone says a transaction was: `payer` paid at least `amount` of the network's
    asset (to one of `pay_to`, when the recipient is known), between `not_before` and
    `not_after` (either may be open)."""

    network: str
    tx_hash: str
    payer: str
    amount: int
    asset: str
    pay_to: frozenset[str] = field(default_factory=frozenset)
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
