"""Records erased as past their retention period while an access answer was pending.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_past_period', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_column('erased_past_period')
