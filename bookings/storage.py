"""Write-once, content-addressed media storage.

A file is stored under its sha256 and never overwritten, so a database restored to any
point in time finds every file it references in a media backup taken later.
"""

import contextlib
import hashlib
import os
import tempfile
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage


class ContentAddressedStorage(FileSystemStorage):
    def save(self, name, content, max_length=None):
        digest = hashlib.sha256()
        content.seek(0)
        for chunk in content.chunks():
            digest.update(chunk)
        suffix = PurePosixPath(name or "").suffix.lower()[:10]
        sha = digest.hexdigest()
        final = f"{sha[:2]}/{sha}{suffix}"
        if self.exists(final):
            return final
        target = self.path(final)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        content.seek(0)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o444)
            # link() refuses to replace: a concurrent upload of the same bytes wins
            # the race and leaves the identical file in place.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
        finally:
            os.unlink(tmp)
        return final

    def delete(self, name):
        # Write-once: files go only when the backup retention window has passed.
        return None
