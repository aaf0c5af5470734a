"""GET /.well-known/jwks.json: the public keys that check the network's signed answers."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from adnet.core import jws


class JwksApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="jwks",
        auth=[],
        responses={
            200: OpenApiResponse(
                description=(
                    "A JSON Web Key Set (RFC 7517) of Ed25519 keys (`kty` OKP, `alg` EdDSA). "
                    "Every signature the network gives names its key by `kid`; keys stay "
                    "listed while answers signed with them may still be checked."
                )
            )
        },
    )
    def get(self, request):
        response = Response(jws.jwks())
        response["Cache-Control"] = "public, max-age=300"
        return response
