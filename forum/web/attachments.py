"""Files sent with a page's form: received as POST /api/v1/uploads receives them.

Without JavaScript a form sends its files itself (multipart); with it, the editor has
uploaded them already and sends their ids in hidden fields. Either way the action gets ids.
The receiving is the uploads package's, which ``forum.app`` hands over as
``app.state.receive_upload``.
"""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from forum.errors import BadRequest, ForumError, ValidationFailed
from forum.i18n import gettext as _
from forum.web.parsers import ID, Invalid

__all__ = ["attached_files", "form_ids"]


async def attached_files(
    request: Request, form: FormData, *, files: str = "files", ids: str = "attachments"
) -> tuple[int, ...]:
    """The ids in the form's ``ids`` fields, then those of the files in its ``files`` fields."""
    found = form_ids(form, ids)
    receive = request.app.state.receive_upload
    for value in form.getlist(files):
        if isinstance(value, UploadFile) and value.filename:
            try:
                resource = await receive(request, value)
            except ForumError as exc:
                raise ValidationFailed(
                    exc.message, code=exc.code, fields={files: f"{value.filename}: {exc.message}"}
                ) from None
            found.append(int(resource["id"]))
    return tuple(found)


def form_ids(form: FormData, name: str) -> list[int]:
    raw = [value for value in form.getlist(name) if isinstance(value, str) and value]
    try:
        return [ID.from_string(value) for value in raw]
    except Invalid:
        raise BadRequest(_("添付ファイルの指定が正しくありません。"), code="bad_form") from None
