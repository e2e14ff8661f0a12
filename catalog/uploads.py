"""An upload handler that enforces MUSICREC_MAX_UPLOAD_MB while the bytes stream in.

Every uploaded file is streamed to a temporary file in the data folder (so accepting it is a
rename, not a copy). Past the limit, nothing more is written, what was written is dropped, and the
file comes back with `too_large = True`; the import service then refuses it with `too_large`.
A reverse proxy should also cap request bodies (docs/deployment.md) so huge bodies are not read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler


def max_upload_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.too_large = False
        self.limit = max_upload_bytes()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.too_large:
            return None
        if self.received > self.limit:
            self.too_large = True
            self.file.truncate(0)  # give the disk back at once
            return None
        try:
            self.file.write(raw_data)
        except OSError:
            # a full disk: drop the partial file now (closing deletes it), not at garbage
            # collection; the API answers 507 (core.api.exception_handler)
            self.file.close()
            raise
        return None

    def file_complete(self, file_size: int) -> TemporaryUploadedFile:
        uploaded = super().file_complete(0 if self.too_large else file_size)
        uploaded.too_large = self.too_large
        uploaded.received_bytes = self.received
        return uploaded
