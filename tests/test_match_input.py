"""The match body's fast reader agrees with MatchInputSerializer wherever it answers."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.api import match_input
from campaigns.api.serializers import MatchInputSerializer

EVM = "0x" + "Ab" * 20
SOLANA = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"

urls = st.sampled_from(
    [
        "https://api.example.com/v1/quote",
        "http://x.example/a?b=c",
        "mcp://tools.example/run",
        " https://api.example.com/v1/quote",
        "https://api.example.com/v1/quote ",
        "https://api.example.com/a b",
        "notaurl",
        "https://",
        "1http://x.example/",
        "https://[::1/",
        "",
        "https://x.example/" + "a" * 2040,
        "https://x.example/\x00",
    ]
) | st.text(max_size=40)
networks = st.sampled_from(
    ["eip155:8453", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "eip155", "", " eip155:1", "x:y"]
) | st.text(max_size=12)
payers = st.sampled_from([EVM, EVM.lower(), SOLANA, "0x123", "", " " + EVM, "x" * 129])
amounts = st.sampled_from(["10000", "0", "007", "-1", "1.5", "", "9" * 78, "9" * 79, " 1"]) | (
    st.integers(-5, 10**6)
)
transports = st.sampled_from(["http", "mcp", "a2a", "", "HTTP", " http", "ws"])
hashes = st.sampled_from(
    ["", "0x" + "ab" * 32, "ab" * 8, "0x" + "a" * 15, "a" * 15, "0x" + "a" * 129, "0x" + "z" * 40]
) | st.text(alphabet="0123456789abcdefx ", max_size=70)
descriptions = st.sampled_from(["", "Quotes", " padded ", "x" * 4001, "x" * 4000])
others = st.none() | st.integers() | st.booleans() | st.lists(st.integers(), max_size=2)


VALID = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payerWallet": EVM,
    "settledAmount": "10000",
}


@st.composite
def bodies(draw):
    """Mostly well-formed bodies with a few fields changed, dropped or added."""
    body = dict(VALID)
    for name, values in (
        ("resourceUrl", urls),
        ("network", networks),
        ("payerWallet", payers),
        ("settledAmount", amounts),
        ("transport", transports),
        ("txHash", hashes),
        ("resourceDescription", descriptions),
    ):
        change = draw(st.integers(0, 9))
        if change == 0:
            body.pop(name, None)
        elif change == 1:
            body[name] = draw(others)
        elif change in (2, 3, 4):
            body[name] = draw(values)
    if draw(st.booleans()):
        body["extra"] = draw(others)
    return body


@settings(max_examples=3000, suppress_health_check=list(HealthCheck), deadline=None)
@given(bodies())
def test_the_fast_reader_never_disagrees_with_the_serializer(body):
    fast = match_input.parse(body)
    serializer = MatchInputSerializer(data=body)
    valid = serializer.is_valid()
    if fast is not None:
        assert valid, serializer.errors
        assert fast == dict(serializer.validated_data)


@pytest.mark.parametrize(
    "body",
    [
        {
            "resourceUrl": "https://a.example/x",
            "network": "eip155:8453",
            "payerWallet": EVM,
            "settledAmount": "10000",
        },
        {
            "resourceUrl": "https://a.example/x",
            "network": "eip155:8453",
            "payerWallet": EVM,
            "settledAmount": "1",
            "transport": "mcp",
            "txHash": "0x" + "ab" * 32,
            "resourceDescription": "Quotes",
            "unknown": [1],
        },
    ],
)
def test_well_formed_bodies_take_the_fast_path(body):
    """The common case must not fall back (else the benchmark measures the serializer)."""
    assert match_input.parse(body) is not None
