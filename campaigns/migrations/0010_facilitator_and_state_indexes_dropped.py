# Three indexes that no query reads, each written by every match the journal drains.

import django.db.models.deletion
from django.db import migrations, models

FACILITATOR_INDEXES = (
    ("campaigns_matchrequest", "campaigns_matchrequest_facilitator_id_08e73a76"),
    ("campaigns_placement", "campaigns_placement_facilitator_id_cb9aaf87"),
)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0009_attribution_window_bounded"),
        ("facilitators", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="placement",
            name="campaigns_p_state_ef3a70_idx",
        ),
        # Only the index goes: the foreign keys stay as they are. (AlterField would drop
        # each constraint and add it again, checking every row under a lock that stops
        # the journal's writes for as long as that takes.)
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="matchrequest",
                    name="facilitator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="match_requests",
                        to="facilitators.facilitator",
                    ),
                ),
                migrations.AlterField(
                    model_name="placement",
                    name="facilitator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="placements",
                        to="facilitators.facilitator",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("facilitator_id")',
                )
                for table, index in FACILITATOR_INDEXES
            ],
        ),
    ]
