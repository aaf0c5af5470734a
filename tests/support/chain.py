"""A real local EVM chain for tests: anvil (npm `@foundry-rs/anvil`) with a USDC-like token.

The token (evidence/tests/chain/TestUSDC.sol: 6 decimals, ERC-20, EIP-3009
`transferWithAuthorization`) is compiled with solcjs (npm `solc`) once per test session.
Both tools come from package.json / package-lock.json (`npm ci`, which `make test` runs).
Anvil's development accounts are unlocked, so transactions are sent with
`eth_sendTransaction`; every transaction is mined at once into its own block.
"""

import json
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from evidence import rpc
from tests.support import procs

NODE_BIN = procs.REPO_ROOT / "node_modules" / ".bin"
TOKEN_SOURCE = procs.REPO_ROOT / "evidence" / "tests" / "chain" / "TestUSDC.sol"
CHAIN_ID = 84532  # Base Sepolia's id, so the chain stands for network eip155:84532
NETWORK = f"eip155:{CHAIN_ID}"
# Anvil's development accounts come from this public mnemonic (its default); tests derive
# the same keys to sign EIP-3009 authorizations.
MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNT_COUNT = 4


def _derive_accounts() -> tuple[tuple[str, str], ...]:
    Account.enable_unaudited_hdwallet_features()
    derived = []
    for i in range(ACCOUNT_COUNT):
        account = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        derived.append((account.address.lower(), "0x" + account.key.hex().removeprefix("0x")))
    return tuple(derived)


# (address, private key) of each unlocked account, in anvil's order.
ACCOUNTS = _derive_accounts()


class ToolMissing(RuntimeError):
    """anvil or solcjs is not installed: `npm ci` (make test runs it)."""


def _tool(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        raise ToolMissing(f"{path} is missing: run `npm ci` (make test does)")
    return path


@cache
def token_artifact() -> tuple[str, list]:
    """The token's creation bytecode (0x...) and ABI, compiled once per process."""
    with tempfile.TemporaryDirectory(prefix="adnet-solc-") as out:
        subprocess.run(
            [str(_tool("solcjs")), "--bin", "--abi", "--optimize", "-o", out, TOKEN_SOURCE.name],
            cwd=TOKEN_SOURCE.parent,
            check=True,
            capture_output=True,
            timeout=120,
        )
        stem = "TestUSDC_sol_TestUSDC"
        bytecode = (Path(out) / f"{stem}.bin").read_text().strip()
        abi = json.loads((Path(out) / f"{stem}.abi").read_text())
    return "0x" + bytecode, abi


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def calldata(signature: str, types: list[str], values: list) -> str:
    return "0x" + (selector(signature) + encode(types, values)).hex()


class Anvil:
    """One anvil process on a free port, and the calls tests need."""

    def __init__(self, log: Path):
        self.port = procs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = procs.Process(
            "anvil",
            [
                str(_tool("anvil")),
                "--port",
                str(self.port),
                "--host",
                "127.0.0.1",
                "--chain-id",
                str(CHAIN_ID),
                "--mnemonic",
                MNEMONIC,
                "--accounts",
                str(ACCOUNT_COUNT),
                "--silent",
            ],
            log,
        )

    def start(self) -> "Anvil":
        self.process.start()
        procs.wait_for(self._answers, timeout=procs.START_TIMEOUT, what="anvil to answer")
        return self

    def stop(self) -> None:
        self.process.kill()

    def _answers(self) -> bool:
        try:
            self.call("eth_chainId")
        except rpc.RpcUnavailable:
            return False
        return True

    def call(self, method: str, *params):
        return rpc.call(self.url, method, list(params), timeout=10)

    def send(
        self, sender: str, to: str | None, data: str = "0x", value: int = 0, gas: int | None = None
    ) -> str:
        """Send from an unlocked account; the transaction hash, once mined. With `gas`
        given, nothing is estimated, so a transaction that reverts is still mined (failed)."""
        tx = {"from": sender, "data": data, "value": hex(value)}
        if to is not None:
            tx["to"] = to
        if gas is not None:
            tx["gas"] = hex(gas)
        tx_hash = self.call("eth_sendTransaction", tx)
        self.receipt(tx_hash)  # mined before anyone asks the chain about it
        return tx_hash

    def receipt(self, tx_hash: str) -> dict:
        """The transaction's receipt; anvil mines each transaction as it comes, but may answer
        `eth_sendTransaction` a moment before the receipt is there."""
        return procs.wait_for(
            lambda: self.call("eth_getTransactionReceipt", tx_hash),
            timeout=10,
            what=f"the receipt of {tx_hash}",
        )

    def mine(self, blocks: int = 1) -> None:
        self.call("anvil_mine", hex(blocks))

    def deploy_token(self) -> "Token":
        bytecode, _ = token_artifact()
        tx_hash = self.send(ACCOUNTS[0][0], None, bytecode)
        address = self.receipt(tx_hash)["contractAddress"].lower()
        return Token(self, address)


class Token:
    """The deployed test token."""

    def __init__(self, chain: Anvil, address: str):
        self.chain, self.address = chain, address

    def mint(self, to: str, amount: int) -> str:
        data = calldata("mint(address,uint256)", ["address", "uint256"], [to, amount])
        return self.chain.send(ACCOUNTS[0][0], self.address, data)

    def transfer(self, sender: str, to: str, amount: int, gas: int | None = None) -> str:
        data = calldata("transfer(address,uint256)", ["address", "uint256"], [to, amount])
        return self.chain.send(sender, self.address, data, gas=gas)

    def balance(self, owner: str) -> int:
        data = calldata("balanceOf(address)", ["address"], [owner])
        return int(self.chain.call("eth_call", {"to": self.address, "data": data}, "latest"), 16)
