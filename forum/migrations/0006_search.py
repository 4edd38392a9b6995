"""Practice cases with their themes (seeded), and the search index (forum/search.py).

The index is raw tables, since neither an FTS5 table nor a tsvector column is a Tortoise
field: SQLite gets an FTS5 table over pre-tokenised text; PostgreSQL two tsvector columns
with GIN indexes."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from forum.models import PopulationBand

_SQLITE = [
    "CREATE TABLE search_docs ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "doc_key VARCHAR(24) NOT NULL UNIQUE, "
    "kind VARCHAR(16) NOT NULL, "
    "thread_id INT REFERENCES threads (id) ON DELETE CASCADE, "
    "post_id INT REFERENCES posts (id) ON DELETE CASCADE, "
    "case_id INT REFERENCES practice_cases (id) ON DELETE CASCADE, "
    "board_id INT REFERENCES boards (id) ON DELETE CASCADE, "
    "prefecture INT, "
    "themes TEXT NOT NULL DEFAULT '', "
    "author_id INT REFERENCES users (id) ON DELETE SET NULL, "
    "title TEXT NOT NULL, "
    "body TEXT NOT NULL, "
    "created_at TEXT NOT NULL, "
    "tg TEXT NOT NULL DEFAULT '', "
    "bg TEXT NOT NULL DEFAULT '', "
    "tu TEXT NOT NULL DEFAULT '', "
    "bu TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX search_docs_board ON search_docs (board_id, created_at)",
    # The FTS index reads its text from search_docs (external content); the triggers keep
    # it in step, so one statement writes a row and its index entries.
    "CREATE VIRTUAL TABLE search_fts USING fts5(tg, bg, tu, bu, content = 'search_docs', "
    "content_rowid = 'id', tokenize = 'ascii')",
    "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
    "INSERT INTO search_fts (rowid, tg, bg, tu, bu) "
    "VALUES (new.id, new.tg, new.bg, new.tu, new.bu); END",
    "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, tg, bg, tu, bu) "
    "VALUES ('delete', old.id, old.tg, old.bg, old.tu, old.bu); END",
    "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, tg, bg, tu, bu) "
    "VALUES ('delete', old.id, old.tg, old.bg, old.tu, old.bu); "
    "INSERT INTO search_fts (rowid, tg, bg, tu, bu) "
    "VALUES (new.id, new.tg, new.bg, new.tu, new.bu); END",
    "CREATE TABLE search_reindex (id INT PRIMARY KEY, phase VARCHAR(16) NOT NULL, "
    "last_id INT NOT NULL)",
]
_POSTGRES = [
    "CREATE TABLE search_docs ("
    "id SERIAL PRIMARY KEY, "
    "doc_key VARCHAR(24) NOT NULL UNIQUE, "
    "kind VARCHAR(16) NOT NULL, "
    "thread_id INT REFERENCES threads (id) ON DELETE CASCADE, "
    "post_id INT REFERENCES posts (id) ON DELETE CASCADE, "
    "case_id INT REFERENCES practice_cases (id) ON DELETE CASCADE, "
    "board_id INT REFERENCES boards (id) ON DELETE CASCADE, "
    "prefecture INT, "
    "themes TEXT NOT NULL DEFAULT '', "
    "author_id INT REFERENCES users (id) ON DELETE SET NULL, "
    "title TEXT NOT NULL, "
    "body TEXT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL, "
    "grams TSVECTOR NOT NULL, "
    "unis TSVECTOR NOT NULL)",
    "CREATE INDEX search_docs_board ON search_docs (board_id, created_at)",
    "CREATE INDEX search_docs_grams ON search_docs USING GIN (grams)",
    "CREATE INDEX search_docs_unis ON search_docs USING GIN (unis)",
    "CREATE TABLE search_reindex (id INT PRIMARY KEY, phase VARCHAR(16) NOT NULL, "
    "last_id INT NOT NULL)",
]
_DROP = {
    "sqlite": ["DROP TABLE search_reindex", "DROP TABLE search_fts", "DROP TABLE search_docs"],
    "postgres": ["DROP TABLE search_reindex", "DROP TABLE search_docs"],
}


async def _create(apps: StateApps, editor: BaseSchemaEditor) -> None:
    postgres = editor.client.capabilities.dialect == "postgres"
    for statement in _POSTGRES if postgres else _SQLITE:
        await editor.client.execute_script(statement)


THEMES = (
    "移住・定住",
    "関係人口",
    "二地域居住",
    "DX",
    "観光",
    "農林水産",
    "教育",
    "起業・事業承継",
    "防災",
    "福祉",
)


async def _seed_themes(apps: StateApps, editor: BaseSchemaEditor) -> None:
    postgres = editor.client.capabilities.dialect == "postgres"
    insert = "INSERT INTO case_themes (name, position) VALUES " + (
        "($1, $2)" if postgres else "(?, ?)"
    )
    for position, name in enumerate(THEMES):
        await editor.client.execute_query(insert, [name, position])


async def _unseed_themes(apps: StateApps, editor: BaseSchemaEditor) -> None:
    await editor.client.execute_script("DELETE FROM case_themes")


async def _drop(apps: StateApps, editor: BaseSchemaEditor) -> None:
    for statement in _DROP[editor.client.capabilities.dialect]:
        await editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('models', '0005_sessions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CaseTheme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=40)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'case_themes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A theme practice cases are filed under, in a list administrators keep.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PracticeCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='cases', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=120)),
                ('prefecture', fields.IntField()),
                ('municipality', fields.CharField(max_length=60)),
                ('population_band', fields.CharEnumField(description='UNDER_5K: under_5k\nFROM_5K: 5k_20k\nFROM_20K: 20k_50k\nFROM_50K: 50k_100k\nFROM_100K: 100k_300k\nOVER_300K: over_300k', enum_type=PopulationBand, max_length=16)),
                ('organisation', fields.CharField(default='', max_length=100)),
                ('period', fields.CharField(default='', max_length=60)),
                ('background', fields.TextField(unique=False)),
                ('actions', fields.TextField(unique=False)),
                ('results', fields.TextField(unique=False)),
                ('challenges', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'practice_cases', 'app': 'models', 'indexes': [Index(fields=['prefecture', 'id'])], 'pk_attr': 'id', 'table_description': 'A practice case (実践事例): where, who, when, and what was done, learnt and left.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseThemeLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.PracticeCase', source_field='case_id', db_constraint=True, to_field='id', related_name='theme_links', on_delete=OnDelete.CASCADE)),
                ('theme', fields.ForeignKeyField('models.CaseTheme', source_field='theme_id', db_constraint=True, to_field='id', related_name='case_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'case_theme_links', 'app': 'models', 'unique_together': (('case', 'theme'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(_seed_themes, _unseed_themes),
        ops.RunPython(_create, _drop),
    ]
