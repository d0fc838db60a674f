"""catalog: the product card's columns (Russian title, old price, rating, options, a shipped
picture, active), a store's rating, the wishlist, the cart, recently viewed products, followed
stores, and the FTS5 search index over the products' titles (kept by triggers)

Revision ID: 0015_catalog
Revises: 0014_relay
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME, moment, owner, parent, serial_id

revision = "0015_catalog"
down_revision = "0014_relay"
branch_labels = None
depends_on = None


FTS = [
    "CREATE VIRTUAL TABLE products_fts USING fts5(title, title_ru, content='products', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN "
    "INSERT INTO products_fts(rowid, title, title_ru) VALUES (new.id, new.title, new.title_ru); END",
    "CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN "
    "INSERT INTO products_fts(products_fts, rowid, title, title_ru) VALUES ('delete', old.id, old.title, old.title_ru); "
    "END",
    "CREATE TRIGGER products_fts_update AFTER UPDATE OF title, title_ru ON products BEGIN "
    "INSERT INTO products_fts(products_fts, rowid, title, title_ru) VALUES ('delete', old.id, old.title, old.title_ru); "
    "INSERT INTO products_fts(rowid, title, title_ru) VALUES (new.id, new.title, new.title_ru); END",
    "INSERT INTO products_fts(products_fts) VALUES ('rebuild')",
]
# PostgreSQL: a generated tsvector of both titles ('simple': no stemming, lower case, like unicode61)
# behind a GIN index; searched with prefix queries (bot/db/dialect.py)
PG_FTS = [
    "ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(title_ru, ''))) STORED",
    "CREATE INDEX ix_products_search ON products USING gin (search)",
]


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("title_ru", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("old_price_minor", sa.BigInteger))
        batch.add_column(sa.Column("rating_x10", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("reviews_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("options", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("image_path", sa.String(255)))
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_at", TIME))
    op.create_index("ix_products_category_price", "products", ["category", "price_minor"])
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("rating_x10", sa.Integer, nullable=False, server_default="0"))

    op.create_table(
        "wishlist",
        owner(key=True),
        parent("product_id", "products", key=True),
        moment("added_at"),
        sa.Column("price_at_add_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_wishlist_user", "wishlist", ["user_id", "added_at"])
    op.create_index("ix_wishlist_product", "wishlist", ["product_id"])

    op.create_table(
        "cart_items",
        serial_id(),
        owner(),
        parent("product_id", "products"),
        sa.Column("options", sa.String(255), nullable=False, server_default=""),
        sa.Column("quantity", sa.Integer, nullable=False),
        moment("added_at"),
        sa.Column("price_at_add_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_cart_items_line", "cart_items", ["user_id", "product_id", "options"], unique=True)
    op.create_index("ix_cart_items_product", "cart_items", ["product_id"])

    op.create_table(
        "viewed_products",
        owner(key=True),
        parent("product_id", "products", key=True),
        moment("viewed_at"),
    )
    op.create_index("ix_viewed_products_user", "viewed_products", ["user_id", "viewed_at"])

    op.create_table(
        "store_follows",
        owner(key=True),
        parent("store_id", "stores", key=True),
        moment("followed_at"),
        moment("seen_at"),
    )
    op.create_index("ix_store_follows_store", "store_follows", ["store_id"])

    for statement in FTS if op.get_bind().dialect.name == "sqlite" else PG_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("products_fts_update", "products_fts_delete", "products_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS products_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_products_search")
        op.execute("ALTER TABLE products DROP COLUMN IF EXISTS search")
    for table in ("store_follows", "viewed_products", "cart_items", "wishlist"):
        op.drop_table(table)
    op.drop_index("ix_products_category_price", "products")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("rating_x10")
    with op.batch_alter_table("products") as batch:
        for column in ("updated_at", "active", "image_path", "options", "reviews_count", "rating_x10",
                       "old_price_minor", "title_ru"):
            batch.drop_column(column)
