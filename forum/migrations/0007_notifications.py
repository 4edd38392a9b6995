from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import FollowLevel, NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_edits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Follow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('thread', fields.ForeignKeyField('models.Thread', source_field='thread_id', null=True, db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', null=True, db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('level', fields.CharEnumField(description='WATCHING: watching\nTRACKING: tracking\nMUTED: muted', enum_type=FollowLevel, max_length=16)),
                ('last_read_post_id', fields.IntField(default=0, db_default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'follows', 'app': 'models', 'unique_together': (('user', 'thread'), ('user', 'board')), 'indexes': [Index(fields=['thread_id', 'level']), Index(fields=['board_id', 'level'])], 'pk_attr': 'id', 'table_description': "One user's follow level on one thread or one board (exactly one of the two is set)."},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='POST_APPROVED: post_approved\nPOST_REJECTED: post_rejected\nREVISION_REQUESTED: revision_requested\nEDIT_APPROVED: edit_approved\nEDIT_REJECTED: edit_rejected\nMENTIONED: mentioned\nREPLIED: replied\nQUOTED: quoted\nWATCHED_POST: watched_post\nANSWERED: answered\nANSWER_STATE: answer_state\nSESSION_LIVE: session_live', enum_type=NotificationKind, max_length=32),
        ),
    ]
