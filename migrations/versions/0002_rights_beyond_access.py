"""Erasure, rectification, restriction and objection: plans, holds, suppressions, notices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 22:56:00.601059

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('address_hash')
    )
    op.create_table('retention_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('connector', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('record_key', sa.String(length=200), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['dsar_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connector', 'category', 'record_key')
    )
    with op.batch_alter_table('retention_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_holds_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retention_holds_retain_until'), ['retain_until'], unique=False)

    with op.batch_alter_table('connector_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))

    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrections', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('restriction_ground', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('restriction_lifted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('plan', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=320), nullable=True))

    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_address', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.alter_column('kind',
               existing_type=sa.VARCHAR(length=40),
               type_=sa.String(length=120),
               existing_nullable=False)




def downgrade():

    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.alter_column('kind',
               existing_type=sa.String(length=120),
               type_=sa.VARCHAR(length=40),
               existing_nullable=False)
        batch_op.drop_column('payload')
        batch_op.drop_column('to_address')

    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_column('approved_by')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('plan')
        batch_op.drop_column('restriction_lifted_at')
        batch_op.drop_column('restriction_ground')
        batch_op.drop_column('corrections')

    with op.batch_alter_table('connector_tasks', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('plan')

    with op.batch_alter_table('retention_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_holds_retain_until'))
        batch_op.drop_index(batch_op.f('ix_retention_holds_request_id'))

    op.drop_table('retention_holds')
    op.drop_table('suppressions')

