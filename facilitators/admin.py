"""Operator views of facilitators and API keys in the Django admin."""

from django.contrib import admin

from facilitators.models import ApiKey, Facilitator
from facilitators.services import revoke_key


@admin.register(Facilitator)
class FacilitatorAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Suspended, never deleted: its requests, placements and charges name it (and
        # those tables keep no index by facilitator to find them with).
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "kind",
        "name",
        "facilitator",
        "advertiser_id",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("kind",)
    search_fields = ("key_id", "name")
    readonly_fields = (
        "kind",
        "key_id",
        "secret_hash",
        "facilitator",
        "advertiser_id",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    @admin.action(description="Revoke selected keys (effective on their next request)")
    def revoke(self, request, queryset):
        revoked = sum(revoke_key(key_pk=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {revoked} key(s).")

    def has_add_permission(self, request) -> bool:
        # Keys are issued by the management commands, which show the key once.
        return False
