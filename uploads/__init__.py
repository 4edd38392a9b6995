"""Attachments: files sent with posts, practice cases and sessions, kept where the deployment
needs them and served safely.

``storage`` (one interface; ``files`` and ``s3`` behind it, chosen by URL), ``sniff`` (what a
file is, from its bytes), ``images`` (Pillow re-encoding and thumbnails), ``intake`` (receive
within the allowances), ``attach`` (link to a post in its transaction), ``access`` (who may
fetch a file: whoever may read its post) and ``cleanup``; routes in ``uploads/web``.
"""
