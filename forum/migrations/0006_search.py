"""The search index (forum/search.py): raw tables, since neither an FTS5 table nor a tsvector
column is a Tortoise field. SQLite gets an FTS5 table over pre-tokenised text; PostgreSQL
two tsvector columns with GIN indexes."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

_SQLITE = [
    "CREATE TABLE search_docs ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "doc_key VARCHAR(24) NOT NULL UNIQUE, "
    "kind VARCHAR(16) NOT NULL, "
    "thread_id INT NOT NULL REFERENCES threads (id) ON DELETE CASCADE, "
    "post_id INT REFERENCES posts (id) ON DELETE CASCADE, "
    "board_id INT NOT NULL REFERENCES boards (id) ON DELETE CASCADE, "
    "author_id INT REFERENCES users (id) ON DELETE SET NULL, "
    "title TEXT NOT NULL, "
    "body TEXT NOT NULL, "
    "created_at TEXT NOT NULL)",
    "CREATE INDEX search_docs_board ON search_docs (board_id, created_at)",
    "CREATE VIRTUAL TABLE search_fts USING fts5(tg, bg, tu, bu, tokenize = 'ascii')",
]
_POSTGRES = [
    "CREATE TABLE search_docs ("
    "id SERIAL PRIMARY KEY, "
    "doc_key VARCHAR(24) NOT NULL UNIQUE, "
    "kind VARCHAR(16) NOT NULL, "
    "thread_id INT NOT NULL REFERENCES threads (id) ON DELETE CASCADE, "
    "post_id INT REFERENCES posts (id) ON DELETE CASCADE, "
    "board_id INT NOT NULL REFERENCES boards (id) ON DELETE CASCADE, "
    "author_id INT REFERENCES users (id) ON DELETE SET NULL, "
    "title TEXT NOT NULL, "
    "body TEXT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL, "
    "grams TSVECTOR NOT NULL, "
    "unis TSVECTOR NOT NULL)",
    "CREATE INDEX search_docs_board ON search_docs (board_id, created_at)",
    "CREATE INDEX search_docs_grams ON search_docs USING GIN (grams)",
    "CREATE INDEX search_docs_unis ON search_docs USING GIN (unis)",
]
_DROP = {
    "sqlite": ["DROP TABLE search_fts", "DROP TABLE search_docs"],
    "postgres": ["DROP TABLE search_docs"],
}


async def _create(apps: StateApps, editor: BaseSchemaEditor) -> None:
    postgres = editor.client.capabilities.dialect == "postgres"
    for statement in _POSTGRES if postgres else _SQLITE:
        await editor.client.execute_script(statement)


async def _drop(apps: StateApps, editor: BaseSchemaEditor) -> None:
    for statement in _DROP[editor.client.capabilities.dialect]:
        await editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('models', '0003_credentials')]

    initial = False

    operations = [ops.RunPython(_create, _drop)]
