"""For Tortoise's own CLI: ``tortoise -c forum.tortoise_conf.TORTOISE_ORM makemigrations``."""

import os

from forum.config import DEFAULT_DATABASE_URL, tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("KORYU_DATABASE_URL", DEFAULT_DATABASE_URL))
