"""Answers and findings sealed in the database instead of plaintext files on a disk.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['dsar_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'name')
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_request_id'), ['request_id'],
                              unique=False)
    op.create_table('stored_chunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_id', 'seq')
    )
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('answer_deleted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('answer_deleted_reason', sa.String(length=20),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_dsar_requests_answer_expires_at'),
                              ['answer_expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dsar_requests_answer_expires_at'))
        batch_op.drop_column('answer_deleted_reason')
        batch_op.drop_column('answer_deleted_at')
        batch_op.drop_column('answer_expires_at')
    op.drop_table('stored_chunks')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_request_id'))
    op.drop_table('stored_files')
