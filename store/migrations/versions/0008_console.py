"""candidate.updated_at indexed: /find learns what changed since its last search with one index lookup

Revision ID: 0008_console
Revises: 0007
Create Date: 2026-11-30 23:58:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0008_console'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_updated_at'))
