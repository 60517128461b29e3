"""Erasures carried on by themselves once a contract that blocked them has ended.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deferred_erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('connector', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('record_key', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['dsar_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'connector', 'category', 'record_key')
    )
    with op.batch_alter_table('deferred_erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deferred_erasures_request_id'), ['request_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_deferred_erasures_resolved_at'), ['resolved_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('deferred_erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deferred_erasures_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_deferred_erasures_request_id'))
    op.drop_table('deferred_erasures')
