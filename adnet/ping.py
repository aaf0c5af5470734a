"""GET /v1/ping: the smallest JSON answer of the API stack (the framework ceiling in benchmarks)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class PingApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="ping",
        auth=[],
        responses={200: inline_serializer("Ping", {"ok": serializers.BooleanField()})},
    )
    def get(self, request):
        return Response({"ok": True})
