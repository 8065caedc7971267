"""Sign-up attempts (throttling account farming and email probing per client address and
per email) and known addresses (where an account signed in before: failures from elsewhere
do not lock the owner out there). See docs/security.md.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _base_columns() -> list[sa.Column[object]]:
    return [
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
    ]


def _stamp_updated_at(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def upgrade() -> None:
    op.create_table(
        "auth_signup_attempts",
        *_base_columns(),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("client_ip", sa.String(), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_signup_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_signup_attempts")),
    )
    op.create_index(
        "ix_auth_signup_attempts_client_ip_created_at",
        "auth_signup_attempts",
        ["client_ip", "created_at"],
    )
    op.create_index(
        "ix_auth_signup_attempts_email_created_at", "auth_signup_attempts", ["email", "created_at"]
    )
    op.create_index(op.f("ix_auth_signup_attempts_user_id"), "auth_signup_attempts", ["user_id"])
    _stamp_updated_at("auth_signup_attempts")

    op.create_table(
        "auth_known_addresses",
        *_base_columns(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_ip", sa.String(), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_known_addresses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_known_addresses")),
        sa.UniqueConstraint(
            "user_id", "client_ip", name=op.f("uq_auth_known_addresses_user_id_client_ip")
        ),
    )
    _stamp_updated_at("auth_known_addresses")


def downgrade() -> None:
    op.drop_table("auth_known_addresses")
    op.drop_index(op.f("ix_auth_signup_attempts_user_id"), table_name="auth_signup_attempts")
    op.drop_index("ix_auth_signup_attempts_email_created_at", table_name="auth_signup_attempts")
    op.drop_index("ix_auth_signup_attempts_client_ip_created_at", table_name="auth_signup_attempts")
    op.drop_table("auth_signup_attempts")
