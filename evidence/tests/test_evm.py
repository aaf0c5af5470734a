"""EVM evidence against a real chain: anvil with a USDC-like EIP-3009 token."""

import datetime as dt
import secrets

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from evidence import chains, evm, rpc
from evidence.facts import Claim
from evidence.judge import Outcome, Reason
from tests.support.chain import ACCOUNTS, CHAIN_ID, NETWORK, Anvil, calldata

pytestmark = pytest.mark.chain

DEPLOYER, FACILITATOR, PAYER, MERCHANT = (address for address, _ in ACCOUNTS)
PAYER_KEY = ACCOUNTS[2][1]


@pytest.fixture(scope="module")
def anvil(tmp_path_factory):
    node = Anvil(tmp_path_factory.mktemp("anvil") / "anvil.log").start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def token(anvil):
    deployed = anvil.deploy_token()
    deployed.mint(PAYER, 1_000_000_000)
    return deployed


@pytest.fixture
def chain_settings(settings, anvil, token):
    settings.CHAIN_RPC_URLS = {NETWORK: anvil.url}
    settings.CHAIN_ASSETS = {NETWORK: token.address}
    settings.CHAIN_CONFIRMATIONS = {NETWORK: "1"}
    return settings


def claim(tx_hash: str, token, amount: int = 10_000, **changes) -> Claim:
    now = dt.datetime.now(dt.UTC)
    values = dict(
        network=NETWORK,
        tx_hash=tx_hash,
        payer=PAYER,
        amount=amount,
        asset=token.address,
        pay_to=frozenset({MERCHANT}),
        not_before=now - dt.timedelta(minutes=10),
        not_after=now + dt.timedelta(minutes=10),
    )
    return Claim(**{**values, **changes})


def verdict_of(c: Claim):
    return chains.verify([c])[c]


def test_a_real_payment_is_proven(chain_settings, token):
    tx_hash = token.transfer(PAYER, MERCHANT, 10_000)
    verdict = verdict_of(claim(tx_hash, token))
    assert (verdict.outcome, verdict.paid) == (Outcome.PROVEN, 10_000)


def test_a_payment_by_eip3009_authorization_is_the_payers(chain_settings, anvil, token):
    """The facilitator sends the transaction; the chain says the payer paid."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    message = {
        "from": PAYER,
        "to": MERCHANT,
        "value": 25_000,
        "validAfter": now - 60,
        "validBefore": now + 600,
        "nonce": "0x" + secrets.token_hex(32),
    }
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "TransferWithAuthorization": [
                {"name": "from", "type": "address"},
                {"name": "to", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "validAfter", "type": "uint256"},
                {"name": "validBefore", "type": "uint256"},
                {"name": "nonce", "type": "bytes32"},
            ],
        },
        "primaryType": "TransferWithAuthorization",
        "domain": {
            "name": "USD Coin",
            "version": "2",
            "chainId": CHAIN_ID,
            "verifyingContract": token.address,
        },
        "message": message,
    }
    signed = Account.sign_message(encode_typed_data(full_message=typed), PAYER_KEY)
    data = calldata(
        "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)",
        ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"],
        [
            PAYER,
            MERCHANT,
            25_000,
            message["validAfter"],
            message["validBefore"],
            bytes.fromhex(message["nonce"][2:]),
            signed.signature,
        ],
    )
    tx_hash = anvil.send(FACILITATOR, token.address, data)
    assert int(anvil.receipt(tx_hash)["status"], 16) == 1
    assert verdict_of(claim(tx_hash, token, amount=25_000)).proven


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        # an invented hash
        (lambda token: "0x" + secrets.token_hex(32), Reason.NOT_FOUND),
        # a transaction that failed on chain (more than the payer holds)
        (lambda token: token.transfer(PAYER, MERCHANT, 10**15, gas=200_000), Reason.FAILED),
        # paid someone else
        (lambda token: token.transfer(PAYER, FACILITATOR, 10_000), Reason.WRONG_RECIPIENT),
        # paid less
        (lambda token: token.transfer(PAYER, MERCHANT, 9_999), Reason.AMOUNT_SHORT),
        # someone else paid
        (lambda token: _funded_transfer(token, DEPLOYER), Reason.NO_PAYMENT_FROM_PAYER),
    ],
)
def test_what_the_chain_contradicts_is_never_proven(chain_settings, token, make, reason):
    verdict = verdict_of(claim(make(token), token))
    assert not verdict.proven
    assert verdict.reason is reason


def _funded_transfer(token, sender: str) -> str:
    token.mint(sender, 10_000)
    return token.transfer(sender, MERCHANT, 10_000)


def test_another_chains_transaction_is_not_found_here(chain_settings, token, tmp_path):
    other = Anvil(tmp_path / "other.log").start()
    try:
        elsewhere = other.deploy_token()
        elsewhere.mint(PAYER, 10_000)
        tx_hash = elsewhere.transfer(PAYER, MERCHANT, 10_000)
    finally:
        other.stop()
    assert verdict_of(claim(tx_hash, token)).reason is Reason.NOT_FOUND


def test_a_payment_waits_until_it_is_deep_enough(chain_settings, anvil, token):
    chain_settings.CHAIN_CONFIRMATIONS = {NETWORK: "3"}
    c = claim(token.transfer(PAYER, MERCHANT, 10_000), token)
    assert verdict_of(c).reason is Reason.NOT_FINAL
    anvil.mine(2)
    assert verdict_of(c).proven


def test_many_hashes_are_asked_in_one_batch(anvil, token):
    hashes = [token.transfer(PAYER, MERCHANT, 1_000 + i) for i in range(5)]
    invented = "0x" + secrets.token_hex(32)
    seen = evm.observe(anvil.url, [*hashes, invented, "not-a-hash"], confirmations=1, timeout=5)
    assert [seen[h].transfers[0].amount for h in hashes] == [1_000 + i for i in range(5)]
    assert not seen[invented].found
    assert not seen["not-a-hash"].found


def test_an_unreachable_node_decides_nothing(chain_settings, token):
    c = claim(token.transfer(PAYER, MERCHANT, 10_000), token)
    chain_settings.CHAIN_RPC_URLS = {NETWORK: "http://127.0.0.1:9"}  # discard port: refused
    assert chains.verify([c]) == {}
    with pytest.raises(rpc.RpcUnavailable):
        chains.chain(NETWORK).observe([c.tx_hash])


def test_a_network_without_rpc_decides_nothing(settings):
    settings.CHAIN_RPC_URLS = {}
    c = Claim(network=NETWORK, tx_hash="0x" + "aa" * 32, payer=PAYER, amount=1, asset="0x")
    assert chains.verify([c]) == {}
    with pytest.raises(chains.NotConfigured):
        chains.chain(NETWORK).observe([c.tx_hash])
