"""The one validation of a match body (campaigns.api.match_input), which every way in uses."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.api import match_input
from campaigns.api.serializers import MatchInputSerializer
from campaigns.models import MatchRequest

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
    [
        "",
        "0x" + "ab" * 32,
        "ab" * 8,
        "0x" + "a" * 15,
        "a" * 15,
        "0x" + "a" * 126,
        "0x" + "a" * 127,
        "a" * 128,
        "a" * 129,
        "0x" + "z" * 40,
    ]
) | st.text(alphabet="0123456789abcdefx ", max_size=70)
descriptions = st.sampled_from(["", "Quotes", " padded ", "x" * 1001, "x" * 1000, " " + "x" * 1000])
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


FIELDS = {
    "resourceUrl",
    "resourceDescription",
    "network",
    "payerWallet",
    "settledAmount",
    "transport",
    "txHash",
}
COLUMNS = {
    "resourceUrl": "resource_url",
    "resourceDescription": "resource_description",
    "network": "network",
    "payerWallet": "payer",
    "txHash": "tx_hash",
}


@settings(max_examples=3000, suppress_health_check=list(HealthCheck), deadline=None)
@given(bodies())
def test_every_body_is_read_or_refused_field_by_field(body):
    """parse is the one rule: it either gives values that fit their columns, or names the
    fields at fault; nothing else escapes it. The schema's serializer says the same."""
    try:
        data = match_input.parse(body)
    except match_input.Invalid as invalid:
        details = invalid.details
    else:
        details = None
    serializer = MatchInputSerializer(data=body)
    if details is not None:
        assert details and set(details) <= FIELDS
        assert all(m and all(type(t) is str for t in m) for m in details.values())
        assert not serializer.is_valid()
        assert serializer.errors == details
        return
    assert set(data) == FIELDS
    for field, column in COLUMNS.items():
        assert len(data[field]) <= MatchRequest._meta.get_field(column).max_length
        assert data[field] == data[field].strip()
    assert data["transport"] in ("http", "mcp", "a2a")
    assert type(data["settledAmount"]) is int
    assert serializer.is_valid(), serializer.errors
    assert dict(serializer.validated_data) == data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("txHash", "0x" + "a" * 127),  # 129 characters: one more than the column
        ("txHash", "0x" + "a" * 128),
        ("resourceDescription", "x" * 1001),
        ("resourceUrl", "https://x.example/" + "a" * 2031),
        ("payerWallet", "x" * 129),
        ("resourceDescription", 5),
        ("transport", ["http"]),
        ("transport", None),
    ],
)
def test_what_its_column_cannot_hold_is_refused_not_cut(field, value):
    with pytest.raises(match_input.Invalid) as refused:
        match_input.parse({**VALID, field: value})
    assert set(refused.value.details) == {field}


def test_text_at_its_column_length_is_read_whole():
    body = {**VALID, "txHash": "0x" + "a" * 126, "resourceDescription": "x" * 1000}
    data = match_input.parse(body)
    assert (data["txHash"], data["resourceDescription"]) == (body["txHash"], "x" * 1000)


def test_surrounding_whitespace_is_trimmed_as_before():
    data = match_input.parse({**VALID, "resourceUrl": " https://a.example/x ", "txHash": " "})
    assert (data["resourceUrl"], data["txHash"]) == ("https://a.example/x", "")


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
def test_well_formed_bodies_are_read(body):
    data = match_input.parse(body)
    assert data["settledAmount"] == int(body["settledAmount"])
