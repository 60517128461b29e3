"""A second request of the same kind joins the open one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_to_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key('fk_dsar_requests_joined_to_id', 'dsar_requests',
                                    ['joined_to_id'], ['id'])


def downgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_constraint('fk_dsar_requests_joined_to_id', type_='foreignkey')
        batch_op.drop_column('joined_to_id')
