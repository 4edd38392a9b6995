from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import NotificationKind
from moderation.models import ItemKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_credentials')]

    initial = False

    operations = [
        ops.AddField(
            model_name='IdempotencyRecord',
            name='body_hash',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='POST_APPROVED: post_approved\nPOST_REJECTED: post_rejected\nREVISION_REQUESTED: revision_requested\nEDIT_APPROVED: edit_approved\nEDIT_REJECTED: edit_rejected', enum_type=NotificationKind, max_length=32),
        ),
        ops.AddField(
            model_name='Post',
            name='proposed_body',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Post',
            name='proposed_html',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AlterField(
            model_name='QueueItem',
            name='kind',
            field=fields.CharEnumField(description='PENDING: pending\nFLAGGED: flagged\nEDIT: edit', enum_type=ItemKind, max_length=16),
        ),
    ]
