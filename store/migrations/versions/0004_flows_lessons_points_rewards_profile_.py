"""flows lessons points rewards profile documents

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 17:10:14.469406
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rewardstock',
    sa.Column('reward_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('redeemed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('reward_id')
    )
    op.create_table('candidateprofile',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('id_number_enc', sa.Text(), nullable=True),
    sa.Column('education', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('emergency_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('emergency_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('candidate_id')
    )
    op.create_table('documentupload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('telegram_file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('stored_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('documentupload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documentupload_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documentupload_status'), ['status'], unique=False)

    op.create_table('flowsession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('flow_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('step_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('vars', sa.Text(), nullable=False),
    sa.Column('stack', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('candidate_id', 'flow_id')
    )
    with op.batch_alter_table('flowsession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flowsession_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flowsession_status'), ['status'], unique=False)

    op.create_table('lessonprogress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('best_correct', sa.Integer(), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('passed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('candidate_id', 'lesson_id')
    )
    with op.batch_alter_table('lessonprogress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lessonprogress_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('pointsbalance',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('candidate_id')
    )
    op.create_table('pointsentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('candidate_id', 'ref')
    )
    with op.batch_alter_table('pointsentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pointsentry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pointsentry_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('delivered_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemption_status'))
        batch_op.drop_index(batch_op.f('ix_redemption_candidate_id'))

    op.drop_table('redemption')
    with op.batch_alter_table('pointsentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pointsentry_candidate_id'))
        batch_op.drop_index(batch_op.f('ix_pointsentry_at'))

    op.drop_table('pointsentry')
    op.drop_table('pointsbalance')
    with op.batch_alter_table('lessonprogress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lessonprogress_candidate_id'))

    op.drop_table('lessonprogress')
    with op.batch_alter_table('flowsession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flowsession_status'))
        batch_op.drop_index(batch_op.f('ix_flowsession_candidate_id'))

    op.drop_table('flowsession')
    with op.batch_alter_table('documentupload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documentupload_status'))
        batch_op.drop_index(batch_op.f('ix_documentupload_candidate_id'))

    op.drop_table('documentupload')
    op.drop_table('candidateprofile')
    op.drop_table('rewardstock')
