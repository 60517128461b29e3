"""The officer console: a chained audit trail, sign-in protection, extensions, reviews.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 23:13:36.578215

"""
import sqlalchemy as sa
from alembic import op

from dsar.audit import GENESIS, entry_hash

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('extension_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('denial_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('redactions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('released_by', sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f('ix_dsar_requests_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_foreign_key('fk_dsar_requests_assigned_to_id', 'officers', ['assigned_to_id'], ['id'])

    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))

    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.alter_column('request_id',
               existing_type=sa.VARCHAR(length=32),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_request_events_at'), ['at'], unique=False)

    # The events written before the trail was chained are chained now, in their order.
    connection = op.get_bind()
    events = sa.table('request_events', sa.column('id'), sa.column('request_id'),
                      sa.column('at', sa.DateTime()), sa.column('kind'), sa.column('actor'),
                      sa.column('from_status'), sa.column('to_status'), sa.column('note'),
                      sa.column('prev_hash'), sa.column('hash'))
    previous, length = GENESIS, 0
    for row in connection.execute(sa.select(events).order_by(events.c.id)).all():
        digest = entry_hash(previous, row.at, row.request_id, row.kind, row.actor,
                            row.from_status, row.to_status, row.note)
        connection.execute(events.update().where(events.c.id == row.id)
                           .values(prev_hash=previous, hash=digest))
        previous, length = digest, length + 1
    head = sa.table('audit_head', sa.column('id'), sa.column('hash'), sa.column('length'))
    connection.execute(head.insert().values(id=1, hash=previous, length=length))

    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_request_events_hash', ['hash'])




def downgrade():
    # Entries of no request (sign-ins) have no place in the older table.
    op.execute("DELETE FROM request_events WHERE request_id IS NULL")
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_request_events_hash', type_='unique')
        batch_op.drop_index(batch_op.f('ix_request_events_at'))
        batch_op.alter_column('request_id',
               existing_type=sa.VARCHAR(length=32),
               nullable=False)
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_sign_ins')

    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_constraint('fk_dsar_requests_assigned_to_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dsar_requests_assigned_to_id'))
        batch_op.drop_column('released_by')
        batch_op.drop_column('redactions')
        batch_op.drop_column('assigned_to_id')
        batch_op.drop_column('denial_reason')
        batch_op.drop_column('extension_reason')
        batch_op.drop_column('extended_at')

    op.drop_table('audit_head')

