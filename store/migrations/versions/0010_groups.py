"""cohort groups, the feedback box and the Q&A board

Groups linked to cohorts (link, joins, removals); feedback drafts and the ticket's category, anonymity, photo and
24-hour deadline; answered questions hidden from the board.

Revision ID: 0010_groups
Revises: 0008_faq_examples
Create Date: 2026-12-01 01:53:21.982932
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010_groups'
down_revision: str | None = '0008_faq_examples'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cohortgroup',
    sa.Column('cohort_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('invite_link', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('linked_by', sa.BigInteger(), nullable=False),
    sa.Column('linked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.PrimaryKeyConstraint('cohort_id'),
    sa.UniqueConstraint('chat_id')
    )
    op.create_table('feedbackdraft',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('attachment', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('candidate_id')
    )
    op.create_table('groupjoin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id', 'candidate_id')
    )
    with op.batch_alter_table('groupjoin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupjoin_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupjoin_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('groupremoval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('groupremoval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupremoval_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupremoval_status'), ['status'], unique=False)

    # In place (ALTER TABLE ADD COLUMN): a batch rebuild would drop a table faqproposal's foreign key refers to.
    op.add_column('ticket', sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.add_column('ticket', sa.Column('anonymous', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('ticket', sa.Column('attachment', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
    op.add_column('ticket', sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('ticket', sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('ticket', sa.Column('escalated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('ticket', sa.Column('board_hidden_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('ticket', sa.Column('board_hidden_by', sa.BigInteger(), nullable=True))
    op.create_index(op.f('ix_ticket_due_at'), 'ticket', ['due_at'], unique=False)



def downgrade() -> None:
    # Column by column (SQLite 3.35+ drops a column in place): rebuilding the ticket table in batch mode would
    # drop a table that faqproposal's foreign key refers to.
    op.drop_index(op.f('ix_ticket_due_at'), table_name='ticket')
    for column in ('board_hidden_by', 'board_hidden_at', 'escalated_at', 'reminded_at', 'due_at', 'attachment',
                   'anonymous', 'category'):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE ticket DROP COLUMN {column}')
        else:
            op.drop_column('ticket', column)

    with op.batch_alter_table('groupremoval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupremoval_status'))
        batch_op.drop_index(batch_op.f('ix_groupremoval_candidate_id'))

    op.drop_table('groupremoval')
    with op.batch_alter_table('groupjoin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupjoin_cohort_id'))
        batch_op.drop_index(batch_op.f('ix_groupjoin_candidate_id'))

    op.drop_table('groupjoin')
    op.drop_table('feedbackdraft')
    op.drop_table('cohortgroup')
