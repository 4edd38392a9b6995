from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_moderation')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='ApiToken',
            options={'table': 'api_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A bearer token. The table keeps its SHA-256 and a short prefix to recognise it by.'},
        ),
        ops.AddField(
            model_name='ApiToken',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='hint',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='name',
            field=fields.CharField(default='', db_default='', max_length=50),
        ),
    ]
