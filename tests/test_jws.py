"""Signed answers anyone can check: compact JWS (EdDSA/Ed25519) and the published JWKS,
verified with third-party JOSE libraries (joserfc, PyJWT) as a client would."""

import json

import jwt
import pytest
from joserfc import jws as rfc_jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from rest_framework.test import APIClient

from adnet import checks
from adnet.core import jws

# RFC 9864 names the fully specified `Ed25519` algorithm; the wire contract and most JOSE
# libraries in use speak `EdDSA` (RFC 8037), which joserfc now warns about.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated:UserWarning")

K1 = "k1:" + jws.new_seed()
K2 = "k2:" + jws.new_seed()
CLAIMS = {"cid": "c-1", "payer": "0xabc", "net": "eip155:8453", "exp": 4102444800}


def published() -> dict:
    response = APIClient().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    return json.loads(response.content)


def rfc_verify(token: str, jwks: dict) -> dict:
    obj = rfc_jws.deserialize_compact(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    return json.loads(obj.payload)


def pyjwt_verify(token: str, jwks: dict) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    return jwt.decode(token, key.key, algorithms=["EdDSA"])


@pytest.mark.django_db
def test_two_jose_libraries_we_did_not_write_verify_our_signature(settings):
    settings.RECOMMENDATION_SIGNING_KEYS = [K1]
    token = jws.sign(CLAIMS)
    keys = published()
    assert rfc_verify(token, keys) == CLAIMS
    assert pyjwt_verify(token, keys) == CLAIMS
    assert jws.verify(token) == CLAIMS


def _altered(token: str, part: int) -> str:
    pieces = token.split(".")
    raw = bytearray(jws.b64url_decode(pieces[part]))
    raw[len(raw) // 2] ^= 0x01
    pieces[part] = jws.b64url(bytes(raw))
    return ".".join(pieces)


@pytest.mark.django_db
@pytest.mark.parametrize("part", [0, 1, 2])
def test_any_altered_part_fails_everywhere(settings, part):
    settings.RECOMMENDATION_SIGNING_KEYS = [K1]
    token = _altered(jws.sign(CLAIMS), part)
    keys = published()
    assert jws.verify(token) is None
    with pytest.raises((JoseError, ValueError, KeyError)):
        rfc_verify(token, keys)
    with pytest.raises((jwt.PyJWTError, ValueError, KeyError)):
        pyjwt_verify(token, keys)


@pytest.mark.django_db
def test_keys_rotate_without_breaking_answers_already_given(settings):
    settings.RECOMMENDATION_SIGNING_KEYS = [K1]
    before = jws.sign(CLAIMS)
    settings.RECOMMENDATION_SIGNING_KEYS = [K2, K1]
    after = jws.sign(CLAIMS)
    keys = published()
    assert [k["kid"] for k in keys["keys"]] == ["k2", "k1"]
    assert jwt.get_unverified_header(after)["kid"] == "k2"
    assert pyjwt_verify(before, keys) == CLAIMS == pyjwt_verify(after, keys)
    settings.RECOMMENDATION_SIGNING_KEYS = [K2]
    assert jws.verify(before) is None
    with pytest.raises(KeyError):  # its key id is no longer published
        pyjwt_verify(before, published())


@pytest.mark.django_db
def test_the_jwks_publishes_public_keys_only(settings):
    settings.RECOMMENDATION_SIGNING_KEYS = [K1, K2]
    for key in published()["keys"]:
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == (
            "OKP",
            "Ed25519",
            "EdDSA",
            "sig",
        )


def test_a_signature_from_another_key_with_the_same_id_fails(settings):
    settings.RECOMMENDATION_SIGNING_KEYS = [K1]
    token = jws.sign(CLAIMS)
    settings.RECOMMENDATION_SIGNING_KEYS = ["k1:" + jws.new_seed()]
    assert jws.verify(token) is None


@pytest.mark.parametrize(
    "entries",
    [["no-seed"], ["k1:short"], ["bad kid:" + jws.new_seed()], [K1, "k1:" + jws.new_seed()]],
)
def test_malformed_keys_fail_the_system_check(settings, entries):
    settings.RECOMMENDATION_SIGNING_KEYS = entries
    assert [e.id for e in checks.signing_keys_parse(None)] == ["adnet.E001"]


def test_deploy_check_refuses_the_development_key(settings):
    settings.SECRET_KEY_FROM_ENVIRONMENT = True
    settings.TOKEN_SIGNING_KEYS = ["t1:" + "t" * 40]
    settings.RECOMMENDATION_SIGNING_KEYS = []
    assert [e.id for e in checks.production_keys(None)] == ["adnet.E004"]
    settings.RECOMMENDATION_SIGNING_KEYS = [K1]
    assert checks.production_keys(None) == []
