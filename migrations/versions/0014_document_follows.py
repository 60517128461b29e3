"""The answer mailed once its JSON is stored: when the PDF was ready, and its job's lease.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 04:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_ready_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('document_heartbeat_at', sa.DateTime(), nullable=True))
    # Answers delivered before: their PDF was made before the mail, unless it failed.
    op.execute("UPDATE dsar_requests SET document_ready_at = answered_at "
               "WHERE answered_at IS NOT NULL AND json_ready_at IS NOT NULL "
               "AND document_error IS NULL")


def downgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_column('document_heartbeat_at')
        batch_op.drop_column('document_ready_at')
