"""DRF authentication by bearer API key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from facilitators.selectors import Principal, principal_for_key
from facilitators.services import record_key_use


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`. Every bad key gets the same 401."""

    def authenticate(self, request) -> tuple[Principal, int] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationFailed()
        principal = principal_for_key(raw.strip())
        if principal is None:
            raise AuthenticationFailed()
        record_key_use(key_pk=principal.key_pk)
        return principal, principal.key_pk

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="adnet"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the bearer API key in the OpenAPI schema."""

    target_class = "facilitators.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An adnet API key: facilitator, advertiser or operator.",
        }
