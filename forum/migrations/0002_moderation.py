from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import NotificationKind
from moderation.models import Decision, FlagReason, ItemKind, ItemState, WordAction
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=40)),
                ('target_type', fields.CharField(max_length=16)),
                ('target_id', fields.IntField(null=True)),
                ('target_label', fields.CharField(default='', max_length=200)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('admin_only', fields.BooleanField(default=False)),
                ('before', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('after', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'moderation_log', 'app': 'models', 'indexes': [Index(fields=['board_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One moderation action: who did what to which target, the state before and after, why.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModerationConfig',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('first_posts', fields.IntField(default=3)),
                ('link_account_days', fields.IntField(default=3)),
                ('duplicate_minutes', fields.IntField(default=60)),
                ('burst_posts', fields.IntField(default=5)),
                ('burst_seconds', fields.IntField(default=60)),
                ('flag_threshold', fields.IntField(default=3)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'moderation_config', 'app': 'models', 'pk_attr': 'id', 'table_description': "The site's auto-hold thresholds, one row with id 1, edited by administrators."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='POST_APPROVED: post_approved\nPOST_REJECTED: post_rejected\nREVISION_REQUESTED: revision_requested', enum_type=NotificationKind, max_length=32)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('data', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notifications', 'app': 'models', 'indexes': [Index(fields=['user_id', 'read_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A notice to one user about what became of their post, with the reason given.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QueueItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='queue_items', on_delete=OnDelete.CASCADE)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', db_constraint=True, to_field='id', related_name='queue_items', on_delete=OnDelete.CASCADE)),
                ('thread', fields.ForeignKeyField('models.Thread', source_field='thread_id', db_constraint=True, to_field='id', related_name='queue_items', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PENDING: pending\nFLAGGED: flagged', enum_type=ItemKind, max_length=16)),
                ('state', fields.CharEnumField(default=ItemState.OPEN, description='OPEN: open\nREVISION: revision\nCLOSED: closed', enum_type=ItemState, max_length=16)),
                ('reasons', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('reason_codes', fields.CharField(default='', max_length=255)),
                ('active_post_id', fields.IntField(null=True, unique=True)),
                ('version', fields.IntField(default=1)),
                ('claimed_by', fields.ForeignKeyField('models.User', source_field='claimed_by_id', null=True, db_constraint=True, to_field='id', related_name='claimed_items', on_delete=OnDelete.SET_NULL)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_items', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision', fields.CharEnumField(null=True, description='APPROVED: approved\nREJECTED: rejected\nREVISION: revision', enum_type=Decision, max_length=16)),
                ('decision_reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'moderation_items', 'app': 'models', 'indexes': [Index(fields=['state', 'board_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A post a moderator must look at: held before it was published, or flagged after.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Flag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='flags', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='flags', on_delete=OnDelete.CASCADE)),
                ('item', fields.ForeignKeyField('models.QueueItem', source_field='item_id', null=True, db_constraint=True, to_field='id', related_name='flags', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharEnumField(description='SPAM: spam\nOFFTOPIC: offtopic\nINAPPROPRIATE: inappropriate\nOTHER: other', enum_type=FlagReason, max_length=16)),
                ('note', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'moderation_flags', 'app': 'models', 'unique_together': (('post', 'user'),), 'pk_attr': 'id', 'table_description': "One user's report of one post, kept after the review as its history."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RejectTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('text', fields.CharField(max_length=200)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'moderation_reject_templates', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A reason a moderator can pick when rejecting a post or asking for a revision.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WatchedWord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('word', fields.CharField(max_length=100)),
                ('normalized', fields.CharField(unique=True, max_length=100)),
                ('action', fields.CharEnumField(default=WordAction.HOLD, description='HOLD: hold\nBLOCK: block', enum_type=WordAction, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'moderation_watched_words', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A word that holds or blocks a post, compared in its NFKC case-folded form.'},
            bases=['Model'],
        ),
    ]
