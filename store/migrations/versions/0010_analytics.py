"""interaction (candidate_id, at) and lessonprogress (candidate_id, passed_at) indexed: the risk score reads each
candidate's last interaction and lessons passed up to a moment from the index alone (/atrisk on 50,000 candidates)

Revision ID: 0010_analytics
Revises: 0008_faq_examples
Create Date: 2026-12-01 02:15:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0010_analytics'
down_revision: str | None = '0008_faq_examples'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_interaction_candidate_at', 'interaction', ['candidate_id', 'at'], unique=False)
    op.create_index('ix_lessonprogress_candidate_passed', 'lessonprogress', ['candidate_id', 'passed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_lessonprogress_candidate_passed', table_name='lessonprogress')
    op.drop_index('ix_interaction_candidate_at', table_name='interaction')
