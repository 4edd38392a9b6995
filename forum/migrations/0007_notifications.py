from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import FollowLevel, MailFrequency, MailStatus, NotificationKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_search')]

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
        ops.CreateModel(
            name='MailSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='mail_settings', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('email_key', fields.CharField(null=True, unique=True, max_length=254)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('frequency', fields.CharEnumField(default=MailFrequency.IMMEDIATELY, description='IMMEDIATELY: immediately\nDAILY: daily\nNEVER: never', enum_type=MailFrequency, max_length=16)),
                ('email_kinds_off', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('page_kinds_off', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('digest_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mail_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's email address (shown to nobody) and what they want by email."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutgoingMail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='mails', on_delete=OnDelete.CASCADE)),
                ('notification', fields.ForeignKeyField('models.Notification', source_field='notification_id', null=True, db_constraint=True, to_field='id', related_name='mails', on_delete=OnDelete.SET_NULL)),
                ('to_addr', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=200)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(unique=False)),
                ('unsubscribe_url', fields.CharField(default='', max_length=500)),
                ('message_id', fields.CharField(unique=True, max_length=200)),
                ('status', fields.CharEnumField(default=MailStatus.QUEUED, description='QUEUED: queued\nSENDING: sending\nSENT: sent\nDROPPED: dropped\nFAILED: failed', enum_type=MailStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=64)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mail_outbox', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'The durable mail outbox: a row is written in the transaction of what it reports and'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='POST_APPROVED: post_approved\nPOST_REJECTED: post_rejected\nREVISION_REQUESTED: revision_requested\nEDIT_APPROVED: edit_approved\nEDIT_REJECTED: edit_rejected\nMENTIONED: mentioned\nREPLIED: replied\nQUOTED: quoted\nWATCHED_POST: watched_post\nANSWERED: answered\nANSWER_STATE: answer_state\nSESSION_LIVE: session_live', enum_type=NotificationKind, max_length=32),
        ),
    ]
