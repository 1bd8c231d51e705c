"""faq queries, tickets and risk signals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:53:13.785775
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('faqquery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
    sa.Column('best_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('vote', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
    sa.Column('voted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faqquery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faqquery_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_faqquery_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('faq_query_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.BigInteger(), nullable=True),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('added_to_faq_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.ForeignKeyConstraint(['faq_query_id'], ['faqquery.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('faq_query_id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_status'), ['status'], unique=False)

    op.create_table('risksignal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risksignal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risksignal_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_risksignal_candidate_id'), ['candidate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risksignal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risksignal_candidate_id'))
        batch_op.drop_index(batch_op.f('ix_risksignal_at'))

    op.drop_table('risksignal')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_status'))
        batch_op.drop_index(batch_op.f('ix_ticket_created_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_candidate_id'))

    op.drop_table('ticket')
    with op.batch_alter_table('faqquery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faqquery_candidate_id'))
        batch_op.drop_index(batch_op.f('ix_faqquery_at'))

    op.drop_table('faqquery')
