"""The answer's PDF in a job of its own: when the JSON was ready, the PDF's claim and failure.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('json_ready_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('document_started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('document_job_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('document_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('document_error', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_column('document_error')
        batch_op.drop_column('document_attempts')
        batch_op.drop_column('document_job_id')
        batch_op.drop_column('document_started_at')
        batch_op.drop_column('json_ready_at')
