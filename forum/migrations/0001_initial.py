from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import Affiliation, AnswerState, BoardRole, ModerationPolicy, PostKind, PostStatus, Role
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Board',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=40)),
                ('title', fields.CharField(max_length=100)),
                ('description', fields.TextField(default='', unique=False)),
                ('moderation', fields.CharEnumField(default=ModerationPolicy.OPEN, description='OPEN: open\nPREMODERATED: premoderated\nFIRST_POSTS: first_posts', enum_type=ModerationPolicy, max_length=16)),
                ('private', fields.BooleanField(default=False)),
                ('position', fields.IntField(default=0)),
                ('thread_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'boards', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelHead',
            fields=[
                ('channel', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('last_seq', fields.BigIntField(default=0)),
            ],
            options={'table': 'channel_heads', 'app': 'models', 'pk_attr': 'channel', 'table_description': 'The last sequence number handed out on a realtime channel.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=80)),
                ('seq', fields.BigIntField()),
                ('name', fields.CharField(max_length=40)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events', 'app': 'models', 'unique_together': (('channel', 'seq'),), 'pk_attr': 'id', 'table_description': 'A realtime event, committed with the change that caused it (transactional outbox).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=32)),
                ('display_name', fields.CharField(max_length=50)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharEnumField(default=Role.PARTICIPANT, description='PARTICIPANT: participant\nEXPERT: expert\nMODERATOR: moderator\nADMIN: admin', enum_type=Role, max_length=16)),
                ('affiliation', fields.CharEnumField(default=Affiliation.OTHER, description='MUNICIPALITY: municipality\nINTERMEDIARY: intermediary\nBUSINESS: business\nCITIZEN: citizen\nOTHER: other', enum_type=Affiliation, max_length=16)),
                ('organisation', fields.CharField(default='', max_length=100)),
                ('expert_field', fields.CharField(default='', max_length=100)),
                ('bio', fields.TextField(default='', unique=False)),
                ('locale', fields.CharField(default='', max_length=8)),
                ('suspended_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('silenced_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_posts', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'api_tokens', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BoardMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='board_roles', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='MEMBER: member\nEXPERT: expert\nMODERATOR: moderator', enum_type=BoardRole, max_length=16)),
            ],
            options={'table': 'board_members', 'app': 'models', 'unique_together': (('board', 'user'),), 'pk_attr': 'id', 'table_description': "A user's standing on one board: experts and moderators run it, members read it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='idempotency_records', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=128)),
                ('scope', fields.CharField(max_length=64)),
                ('status_code', fields.IntField()),
                ('response', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'idempotency_records', 'app': 'models', 'unique_together': (('user', 'key'),), 'pk_attr': 'id', 'table_description': 'The first response to a create request, returned again for a retry with the same key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginSession',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='login_sessions', on_delete=OnDelete.CASCADE)),
                ('csrf_token', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A browser login. The cookie holds the raw id, the table its SHA-256.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Thread',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', db_constraint=True, to_field='id', related_name='threads', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='threads', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=120)),
                ('pinned', fields.BooleanField(default=False)),
                ('locked', fields.BooleanField(default=False)),
                ('featured', fields.BooleanField(default=False)),
                ('live', fields.BooleanField(default=False)),
                ('moderation', fields.CharEnumField(null=True, description='OPEN: open\nPREMODERATED: premoderated\nFIRST_POSTS: first_posts', enum_type=ModerationPolicy, max_length=16)),
                ('post_count', fields.IntField(default=0)),
                ('last_post_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('deleted', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'threads', 'app': 'models', 'indexes': [Index(fields=['board_id', 'pinned', 'last_post_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Post',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('thread', fields.ForeignKeyField('models.Thread', source_field='thread_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(default=PostKind.POST, description='POST: post\nQUESTION: question', enum_type=PostKind, max_length=16)),
                ('body', fields.TextField(unique=False)),
                ('html', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=PostStatus.PUBLISHED, description='PUBLISHED: published\nPENDING: pending\nREJECTED: rejected\nDELETED: deleted', enum_type=PostStatus, max_length=16)),
                ('reply_to', fields.ForeignKeyField('models.Post', source_field='reply_to_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.SET_NULL)),
                ('anonymous', fields.BooleanField(default=False)),
                ('votes', fields.IntField(default=0)),
                ('answer_state', fields.CharEnumField(null=True, description='ANSWERED_LIVE: answered_live\nANSWERED_WRITTEN: answered_written\nDEFERRED: deferred', enum_type=AnswerState, max_length=24)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'posts', 'app': 'models', 'indexes': [Index(fields=['thread_id', 'status', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('editor', fields.ForeignKeyField('models.User', source_field='editor_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.RESTRICT)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'post_revisions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The body a post had before an edit.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Vote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='vote_rows', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'votes', 'app': 'models', 'unique_together': (('post', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
