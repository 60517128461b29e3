"""Officer sign-in: each TOTP step used once, and a cap on failures per account from anywhere.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_table('sign_in_throttles',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('window_started_at', sa.DateTime(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('throttled_until', sa.DateTime(), nullable=True),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('email')
    )


def downgrade():
    op.drop_table('sign_in_throttles')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
