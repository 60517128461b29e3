"""Task leases with heartbeats, tasks waiting out a passing failure, mails dropped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connector_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(), nullable=True))
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dropped_reason', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.drop_column('dropped_reason')
    with op.batch_alter_table('connector_tasks', schema=None) as batch_op:
        batch_op.drop_column('waiting_since')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('claimed_at')
