"""Writing a file atomically: the whole new text, or the old file as it was."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator

__all__ = ["replace_with", "write_atomically"]


def write_atomically(path: str, text: str, operation: str) -> None:
    """Write text to path (UTF-8) through a temporary file in the same folder that is then
    renamed over it (os.replace), so a reader sees the old file or the new one, never half of
    one, and a failed write leaves the old file intact. The new file keeps the mode of the
    one it replaces; a new one gets the mode open() would give it (0o666 less the umask).
    Through a symlink, its target is replaced and the link kept; a path that is there but is
    not a regular file (a folder, a FIFO) is a ValueError, a missing folder a
    FileNotFoundError, a file one may not write (read-only, as open() refuses it) a
    PermissionError, each naming operation."""
    target, mode = _target(path, operation)
    with _beside(target, operation, os.path.splitext(target)[1]) as (handle, _):
        try:
            file = os.fdopen(handle, "w", encoding="utf-8")
        except BaseException:
            os.close(handle)
            raise
        with file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())


def _may_write(path: str) -> bool:
    """Whether this process may write path, as open() would judge it (its effective user)."""
    if os.access in os.supports_effective_ids:
        return os.access(path, os.W_OK, effective_ids=True)
    return os.access(path, os.W_OK)


def _target(path: str, operation: str) -> tuple[str, int | None]:
    """(the file path names, through any symlink; the mode it has, None if there is none
    yet), or the ValueError, FileNotFoundError or PermissionError write_atomically
    describes."""
    target = os.path.realpath(path)  # a symlink's target, replaced; the link stays
    try:
        status = os.stat(target)
    except FileNotFoundError:
        mode = None  # a new file keeps the mode the kernel gave the temporary one
    else:
        if not stat.S_ISREG(status.st_mode):  # a folder, a FIFO, /dev/null
            raise ValueError(f"{operation}: {path} exists and is not a regular file")
        if not _may_write(target):  # the rename would replace it all the same
            raise PermissionError(
                errno.EACCES,
                f"{operation}: this user may not write the file; it is left as it is",
                path,
            )
        mode = stat.S_IMODE(status.st_mode)
    if not os.path.isdir(os.path.dirname(target)):
        raise FileNotFoundError(
            errno.ENOENT, f"{operation}: no such folder", os.path.dirname(path) or "."
        )
    return target, mode


@contextlib.contextmanager
def _beside(target: str, operation: str, suffix: str) -> Iterator[tuple[int, str]]:
    """(descriptor, path) of a new temporary file in target's folder, ending in suffix,
    renamed over target once the block is done; on any error or interrupt, removed."""
    handle, temporary = _create_temporary(os.path.dirname(target), operation, suffix)
    try:
        yield handle, temporary
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _create_temporary(folder: str, operation: str, suffix: str) -> tuple[int, str]:
    """(descriptor, path) of a new empty file in folder, created with mode 0o666 less the umask.

    Not tempfile.mkstemp, which always gives 0o600; and not os.umask(), which reads the umask
    only by changing it for every thread of the process.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(folder, f".tmp-{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
        except PermissionError as error:  # it named the temporary, which the user never chose
            raise PermissionError(
                error.errno,
                f"{operation}: no permission to create a file in this folder (the new file is "
                "written there, then renamed over the old one)",
                folder,
            ) from None
    raise FileExistsError(errno.EEXIST, f"{operation}: no free temporary file name", folder)


def check_suffix(path: str | os.PathLike, operation: str, kind: str, suffixes: tuple) -> None:
    """ValueError, naming operation, if path ends in a suffix other than suffixes (a file
    name without one is taken as it is): a drawing saved as "plot.png" held SVG text."""
    suffix = os.path.splitext(os.fspath(path))[1]
    if suffix and suffix.lower() not in suffixes:
        raise ValueError(
            f"{operation}: writes {kind}, and {os.fspath(path)!r} ends in {suffix!r}; give a "
            f"path ending in {suffixes[0]}"
        )


def replace_with(path: str, write: Callable[[str], None], operation: str) -> None:
    """write(temporary) makes the new file under a temporary name beside path, which then is
    renamed over path: an interrupted or failed write (a figure's savefig, say) leaves the
    old file as it was and no temporary behind. The temporary ends in path's own suffix
    (not its symlink target's), from which writers such as matplotlib take the format.
    What path may be, and the mode the new file keeps, are as in write_atomically."""
    target, mode = _target(path, operation)
    with _beside(target, operation, os.path.splitext(path)[1]) as (handle, temporary):
        os.close(handle)
        write(temporary)
        if mode is not None:
            os.chmod(temporary, mode)
