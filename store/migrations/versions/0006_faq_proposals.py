"""faq proposals kept in the database until HR reviews them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 23:06:39.356973
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('faqproposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answer_locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('similar_to', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('faqproposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faqproposal_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('faqproposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faqproposal_status'))

    op.drop_table('faqproposal')
