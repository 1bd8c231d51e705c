"""privacy: consent records, encrypted emergency contacts, key ids on sealed data, erased candidates

Revision ID: 0010_privacy
Revises: 0010_analytics
Create Date: 2026-12-01 02:00:00

Emergency contacts were stored in plain text before this revision. They are encrypted here with
HRBOT_SECRET_KEY (and ID numbers sealed before key ids existed get the key id). If plain emergency contacts
exist and HRBOT_SECRET_KEY is not set, the migration stops before changing anything and says so: it never
drops them and never keeps them in plain text (set the key, run `hrbot db upgrade` again).
"""
import os
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010_privacy'
down_revision: str | None = '0010_analytics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from bot.crypto import key_id_of, sealer_from_env

    conn = op.get_bind()
    plain = conn.execute(sa.text("SELECT count(*) FROM candidateprofile WHERE emergency_name IS NOT NULL "
                                 "OR emergency_phone IS NOT NULL")).scalar() or 0
    sealer = sealer_from_env(os.environ.get("HRBOT_SECRET_KEY"), os.environ.get("HRBOT_OLD_SECRET_KEYS"))
    if plain and sealer is None:
        raise RuntimeError(f"{plain} emergency contacts are stored in plain text and must be encrypted by this "
                           "upgrade: set HRBOT_SECRET_KEY and run `hrbot db upgrade` again (nothing was changed)")
    op.create_table(
        'consentrecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_consentrecord_candidate_id', 'consentrecord', ['candidate_id'])
    # Plain ADD COLUMN (no table rebuild: other tables' foreign keys point at candidate).
    op.add_column('candidate', sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('documentupload', sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_index('ix_documentupload_key_id', 'documentupload', ['key_id'])
    op.add_column('candidateprofile', sa.Column('id_number_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                                nullable=True))
    op.add_column('candidateprofile', sa.Column('emergency_name_enc', sa.Text(), nullable=True))
    op.add_column('candidateprofile', sa.Column('emergency_phone_enc', sa.Text(), nullable=True))
    op.add_column('candidateprofile', sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_index('ix_candidateprofile_id_number_hash', 'candidateprofile', ['id_number_hash'])
    op.create_index('ix_candidateprofile_key_id', 'candidateprofile', ['key_id'])
    op.create_index('ix_outbox_chat_id', 'outbox', ['chat_id'])
    if sealer is not None:
        rows = conn.execute(sa.text("SELECT candidate_id, id_number_enc, emergency_name, emergency_phone "
                                    "FROM candidateprofile")).all()
        for cid, id_enc, name, phone in rows:
            number = sealer.open(id_enc) if id_enc else None
            if id_enc and number is None:
                continue  # sealed with a key we do not hold: left as it is (the start-up check reports it)
            values = {"cid": cid, "kid": sealer.key_id,
                      "id_enc": sealer.seal(number) if number else None,
                      "hash": sealer.lookup_hash(number) if number else None,
                      "name": sealer.seal(name) if name else None, "phone": sealer.seal(phone) if phone else None}
            if id_enc and key_id_of(id_enc) is not None and not (name or phone):
                continue
            conn.execute(sa.text("UPDATE candidateprofile SET id_number_enc = :id_enc, id_number_hash = :hash, "
                                 "emergency_name_enc = :name, emergency_phone_enc = :phone, key_id = :kid "
                                 "WHERE candidate_id = :cid"), values)
    with op.batch_alter_table('candidateprofile') as batch:
        batch.drop_column('emergency_name')
        batch.drop_column('emergency_phone')


def downgrade() -> None:
    # Going back cannot decrypt without the key: the encrypted emergency contacts are dropped with their columns.
    with op.batch_alter_table('candidateprofile') as batch:
        batch.add_column(sa.Column('emergency_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
        batch.add_column(sa.Column('emergency_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch.drop_index('ix_candidateprofile_key_id')
        batch.drop_index('ix_candidateprofile_id_number_hash')
        batch.drop_column('key_id')
        batch.drop_column('emergency_phone_enc')
        batch.drop_column('emergency_name_enc')
        batch.drop_column('id_number_hash')
    op.drop_index('ix_outbox_chat_id', table_name='outbox')
    op.drop_index('ix_documentupload_key_id', table_name='documentupload')
    op.drop_column('documentupload', 'key_id')
    op.drop_column('candidate', 'erased_at')
    op.drop_index('ix_consentrecord_candidate_id', table_name='consentrecord')
    op.drop_table('consentrecord')
