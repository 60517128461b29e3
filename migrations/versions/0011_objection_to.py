"""What an objection is aimed at: direct marketing or processing on legitimate interests.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('objection_to', sa.String(length=30), nullable=True))
    # Every objection made before was one to direct marketing: say so, so that a new one
    # joins an open old one as the same request.
    op.execute("UPDATE dsar_requests SET objection_to = 'direct_marketing' "
               "WHERE type = 'objection'")


def downgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_column('objection_to')
