"""Which kinds of key may call which endpoints."""

from rest_framework.permissions import BasePermission

from facilitators.selectors import Principal


def _principal(request) -> Principal | None:
    user = request.user
    return user if isinstance(user, Principal) else None


class IsFacilitator(BasePermission):
    message = "This endpoint needs a facilitator key."

    def has_permission(self, request, view) -> bool:
        principal = _principal(request)
        return principal is not None and principal.is_facilitator


class IsOperator(BasePermission):
    message = "This endpoint needs an operator key."

    def has_permission(self, request, view) -> bool:
        principal = _principal(request)
        return principal is not None and principal.is_operator


class IsOperatorOrAdvertiser(BasePermission):
    message = "This endpoint needs an operator or advertiser key."

    def has_permission(self, request, view) -> bool:
        principal = _principal(request)
        return principal is not None and (principal.is_operator or principal.is_advertiser)
