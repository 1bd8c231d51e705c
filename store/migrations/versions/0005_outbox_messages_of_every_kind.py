"""outbox: messages of every kind (media, files) and urgency

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('effect', sa.Text(), nullable=True))
    # Everything queued before that was not a nudge (stage notices from the CLI) was never held by quiet hours.
    op.execute("UPDATE outbox SET urgent = TRUE WHERE kind <> 'nudge'")


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('effect')
        batch.drop_column('urgent')
