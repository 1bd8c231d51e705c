"""hr members, 1:1 messages, broadcasts, outcomes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 23:39:37.877797
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('paid', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('scheduled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Integer(), nullable=False),
    sa.Column('hr_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('hr_message_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_status'), ['status'], unique=False)

    op.create_table('hrmember',
    sa.Column('telegram_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('departments', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('cohorts', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('telegram_id')
    )
    op.create_table('hrmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('hr_id', sa.BigInteger(), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hrmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hrmessage_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hrmessage_hr_id'), ['hr_id'], unique=False)

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('outcome_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('outcome_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('outcome_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hr_reply_to', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_candidate_outcome'), ['outcome'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_broadcast_id'), ['broadcast_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_broadcast_id', 'broadcast', ['broadcast_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_broadcast_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_broadcast_id'))
        batch_op.drop_column('broadcast_id')

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_outcome'))
        batch_op.drop_column('hr_reply_to')
        batch_op.drop_column('outcome_by')
        batch_op.drop_column('outcome_at')
        batch_op.drop_column('outcome_reason')
        batch_op.drop_column('outcome')

    with op.batch_alter_table('hrmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hrmessage_hr_id'))
        batch_op.drop_index(batch_op.f('ix_hrmessage_candidate_id'))

    op.drop_table('hrmessage')
    op.drop_table('hrmember')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_status'))

    op.drop_table('broadcast')
