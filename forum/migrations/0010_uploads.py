from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uploads.models import UploadKind
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_questions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Upload',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.SET_NULL)),
                ('case', fields.ForeignKeyField('models.PracticeCase', source_field='case_id', null=True, db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.SET_NULL)),
                ('name', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=100)),
                ('kind', fields.CharEnumField(description='IMAGE: image\nDOCUMENT: document', enum_type=UploadKind, max_length=16)),
                ('size', fields.BigIntField()),
                ('received', fields.BigIntField()),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('thumbnail', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('attached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('detached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('doomed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'uploads', 'app': 'models', 'indexes': [Index(fields=['owner_id', 'created_at']), Index(fields=['post_id']), Index(fields=['case_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Post',
            name='attachments',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='PracticeCase',
            name='attachments',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='PracticeCase',
            name='cover',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
