"""faq proposals without a ticket: example questions for an existing entry (tapped suggestions, HR's links)

Revision ID: 0008_faq_examples
Revises: 0008_console
Create Date: 2026-12-01 00:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008_faq_examples'
down_revision: str | None = '0008_console'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('faqproposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('faq_query_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False,
                                      server_default='hr_answer'))
        batch_op.add_column(sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True))
        batch_op.add_column(sa.Column('question_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('taps', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('last_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('answer', existing_type=sa.Text(), nullable=True)
        batch_op.alter_column('created_by', existing_type=sa.BigInteger(), nullable=True)
        batch_op.create_foreign_key('fk_faqproposal_faq_query_id', 'faqquery', ['faq_query_id'], ['id'])
        batch_op.create_unique_constraint('uq_faqproposal_entry_question', ['entry_id', 'question_key'])
    with op.batch_alter_table('faqproposal', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None)
        batch_op.alter_column('taps', server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM faqproposal WHERE ticket_id IS NULL")
    with op.batch_alter_table('faqproposal', schema=None) as batch_op:
        batch_op.drop_constraint('uq_faqproposal_entry_question', type_='unique')
        batch_op.drop_constraint('fk_faqproposal_faq_query_id', type_='foreignkey')
        batch_op.alter_column('created_by', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('answer', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('last_at')
        batch_op.drop_column('taps')
        batch_op.drop_column('question_key')
        batch_op.drop_column('entry_id')
        batch_op.drop_column('source')
        batch_op.drop_column('faq_query_id')
