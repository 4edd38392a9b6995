from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_uploads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReadPosition',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='read_positions', on_delete=OnDelete.CASCADE)),
                ('thread', fields.ForeignKeyField('models.Thread', source_field='thread_id', db_constraint=True, to_field='id', related_name='read_positions', on_delete=OnDelete.CASCADE)),
                ('last_read_post_id', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'read_positions', 'app': 'models', 'unique_together': (('user', 'thread'),), 'pk_attr': 'id', 'table_description': 'How far one user has read one thread: the id of the last post they saw there.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Thread',
            name='last_poster',
            field=fields.ForeignKeyField('models.User', source_field='last_poster_id', null=True, db_constraint=True, to_field='id', related_name='last_posts_in', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Thread',
            name='view_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        # Threads written before this migration learn their last poster from their posts
        # (none for an anonymous question, as lifecycle.publish does).
        ops.RunSQL(
            "UPDATE threads SET last_poster_id = (SELECT CASE WHEN p.anonymous THEN NULL "
            "ELSE p.author_id END FROM posts p "
            "WHERE p.thread_id = threads.id AND p.status = 'published' "
            "ORDER BY p.id DESC LIMIT 1)",
            reverse_sql="",
        ),
    ]
