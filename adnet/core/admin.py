"""Admin building blocks shared by the apps: read-only ledger tables, amounts in USDC
(core.money.millis_usdc_text, one precision everywhere) and codes in words."""

from django.contrib import admin

from adnet.core.money import millis_usdc_text, usdc_text
from adnet.core.words import in_words


def _column(field: str, label: str, shown):
    """An admin list column showing `shown(value)` of the field, sortable by the field."""

    def column(obj) -> str:
        return shown(getattr(obj, field))

    column.short_description = label
    column.admin_order_field = field
    return column


def millis_column(field: str, label: str):
    """A ledger amount in millis, shown in USDC."""
    return _column(field, label, lambda v: "" if v is None else millis_usdc_text(v))


def atomic_column(field: str, label: str):
    """An amount in atomic units of USDC, shown in USDC."""
    return _column(field, label, lambda v: "" if v is None else usdc_text(v))


def words_column(field: str, label: str):
    """A code (a reason, a kind) shown as words."""
    return _column(field, label, in_words)


def label_column(field: str, label: str, choices):
    """A code stored without choices on this model, shown with the label of `choices`
    (a TextChoices of the model that owns the code)."""
    labels = dict(choices.choices)
    return _column(field, label, lambda code: labels.get(code) or in_words(code))


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write: events, ledgers, audit trails.

    Nobody adds, changes or deletes them here. A record's page shows every field as text:
    related rows by name (no dropdown loading a whole table), millis in USDC, codes in words.
    """

    # Codes stored without choices here, shown with another model's labels: {field: choices}.
    code_labels: dict = {}
    # Counting a ledger table on every page would cost a full scan.
    show_full_result_count = False
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return [_shown_as(self, field) for field in self.model._meta.concrete_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


def _shown_as(model_admin: admin.ModelAdmin, field) -> str:
    """The name under which a field is shown: itself, or a display in USDC or words."""
    if field.name in model_admin.code_labels:
        display = label_column(field.name, field.verbose_name, model_admin.code_labels[field.name])
    elif field.name.endswith("_millis"):
        display = millis_column(field.name, field.verbose_name.removesuffix(" millis") + " (USDC)")
    elif field.name.endswith("reason") and not field.choices:
        display = words_column(field.name, field.verbose_name)
    else:
        return field.name
    name = f"{field.name}_shown"
    setattr(model_admin, name, display)
    return name


class WordsListFilter(admin.AllValuesFieldListFilter):
    """Filter by a code field, its values shown as words."""

    def choices(self, changelist):
        codes = {str(code) for code in self.lookup_choices}
        for choice in super().choices(changelist):
            if choice["display"] in codes:
                choice = {**choice, "display": in_words(choice["display"])}
            yield choice
