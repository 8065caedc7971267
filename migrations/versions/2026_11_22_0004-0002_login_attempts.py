"""Sign-in attempts, for throttling password guessing in PostgreSQL (no Redis).

Every password login leaves a row (email, client address, success); they are trimmed per
account after an hour and erased with the account.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:04:24.505966+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_login_attempts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("client_ip", sa.String(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_login_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_login_attempts")),
    )
    op.create_index(
        "ix_auth_login_attempts_client_ip_created_at",
        "auth_login_attempts",
        ["client_ip", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_auth_login_attempts_email_created_at",
        "auth_login_attempts",
        ["email", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_auth_login_attempts_user_id"), "auth_login_attempts", ["user_id"], unique=False
    )
    op.execute(
        "CREATE TRIGGER auth_login_attempts_set_updated_at BEFORE UPDATE ON auth_login_attempts "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_login_attempts_user_id"), table_name="auth_login_attempts")
    op.drop_index("ix_auth_login_attempts_email_created_at", table_name="auth_login_attempts")
    op.drop_index("ix_auth_login_attempts_client_ip_created_at", table_name="auth_login_attempts")
    op.drop_table("auth_login_attempts")
