from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import NotificationKind
from live.models import SessionKind, SessionState, StaffRole
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_edits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LiveSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=120)),
                ('kind', fields.CharEnumField(default=SessionKind.OTHER, description='FORUM: forum\nTRAINING: training\nBREAKOUT: breakout\nOTHER: other', enum_type=SessionKind, max_length=16)),
                ('description', fields.TextField(default='', unique=False)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', db_constraint=True, to_field='id', related_name='live_sessions', on_delete=OnDelete.CASCADE)),
                ('thread', fields.OneToOneField('models.Thread', source_field='thread_id', db_constraint=True, to_field='id', related_name='live_session', on_delete=OnDelete.CASCADE)),
                ('organiser', fields.ForeignKeyField('models.User', source_field='organiser_id', db_constraint=True, to_field='id', related_name='organised_sessions', on_delete=OnDelete.RESTRICT)),
                ('parent', fields.ForeignKeyField('models.LiveSession', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.SET_NULL)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state', fields.CharEnumField(default=SessionState.SCHEDULED, description='SCHEDULED: scheduled\nLIVE: live\nENDED: ended\nARCHIVED: archived', enum_type=SessionState, max_length=16)),
                ('venue', fields.CharField(default='', max_length=200)),
                ('url', fields.CharField(default='', max_length=500)),
                ('join_code', fields.CharField(unique=True, max_length=16)),
                ('premoderate', fields.BooleanField(default=True)),
                ('slow_mode_seconds', fields.IntField(default=30)),
                ('viewer_peak', fields.IntField(default=0)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'live_sessions', 'app': 'models', 'indexes': [Index(fields=['state', 'starts_at'])], 'pk_attr': 'id', 'table_description': 'One session of the programme, owning the live thread made with it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SessionFollower',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('models.LiveSession', source_field='session_id', db_constraint=True, to_field='id', related_name='followers', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='followed_sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'live_session_followers', 'app': 'models', 'unique_together': (('session', 'user'),), 'pk_attr': 'id', 'table_description': 'A participant who wants a notice when the session goes live.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SessionStaff',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('models.LiveSession', source_field='session_id', db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='session_roles', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='EXPERT: expert\nMODERATOR: moderator', enum_type=StaffRole, max_length=16)),
            ],
            options={'table': 'live_session_staff', 'app': 'models', 'unique_together': (('session', 'user'),), 'pk_attr': 'id', 'table_description': 'An expert answering in a session, or a moderator running its questions.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='POST_APPROVED: post_approved\nPOST_REJECTED: post_rejected\nREVISION_REQUESTED: revision_requested\nEDIT_APPROVED: edit_approved\nEDIT_REJECTED: edit_rejected\nSESSION_LIVE: session_live', enum_type=NotificationKind, max_length=32),
        ),
    ]
