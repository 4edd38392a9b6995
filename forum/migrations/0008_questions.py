from tortoise import migrations
from tortoise.migrations import operations as ops
from forum.models import AnswerState, PostKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_notifications')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Post',
            name='answer_state',
            field=fields.CharEnumField(null=True, description='OPEN: open\nASSIGNED: assigned\nANSWERING: answering\nANSWERED_LIVE: answered_live\nANSWERED_WRITTEN: answered_written\nDEFERRED: deferred', enum_type=AnswerState, max_length=24),
        ),
        ops.AlterField(
            model_name='Post',
            name='kind',
            field=fields.CharEnumField(default=PostKind.POST, description='POST: post\nQUESTION: question\nANSWER: answer', enum_type=PostKind, max_length=16),
        ),
        ops.AddField(
            model_name='Post',
            name='assigned_to',
            field=fields.ForeignKeyField('models.User', source_field='assigned_to_id', null=True, db_constraint=True, to_field='id', related_name='assigned_questions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Post',
            name='merged_into',
            field=fields.ForeignKeyField('models.Post', source_field='merged_into_id', null=True, db_constraint=True, to_field='id', related_name='merged_questions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Post',
            name='similar_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Post',
            name='tallied_votes',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
