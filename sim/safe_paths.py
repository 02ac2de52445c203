"""Safe output folders and safe terminal text: names from input never escape or spoof.

Three things any command that writes files named after its input needs:

* :func:`safe_name` turns a free-text name (a scenario's ``name``) into one
  folder-name component: no path separators, no ``..``, no control,
  format or bidirectional characters, a bounded length, never empty;
* :func:`check_output_dir` / :func:`make_output_dir` say *before any work*
  whether a folder can be written (it is not a file, not under a file, its
  parent is writable), and turn the operating system's errors into one
  :class:`OutputPathError` that names the folder and the reason;
* :func:`terminal_safe` escapes, in text about to be printed, every character
  that a terminal would act on (escape codes, bidirectional overrides) or that
  passes for another (a Cyrillic ``а`` inside a Latin id, fullwidth letters),
  so what the user sees is what the text is.

Nothing here knows what the folders hold; that is for the callers.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import unicodedata
from pathlib import Path

__all__ = [
    "MAX_NAME_BYTES",
    "MAX_NAME_CHARS",
    "OutputPathError",
    "check_output_dir",
    "describe_os_error",
    "is_resource_error",
    "make_output_dir",
    "remove_if_empty",
    "safe_name",
    "terminal_safe",
]

#: A folder name made from a scenario name keeps at most this many characters ...
MAX_NAME_CHARS = 80
#: ... and at most this many UTF-8 bytes: file systems allow 255 bytes per
#: component, and a suffix such as ``_batch_seed18446744073709551615`` must fit.
MAX_NAME_BYTES = 160

#: Unicode categories never kept in a name and always escaped on a terminal:
#: controls (Cc: ESC, BEL, DEL, C1), format characters (Cf: bidirectional
#: overrides and isolates, zero-width joiners, the byte-order mark), surrogates
#: (Cs: undecodable bytes in a command line), private use and unassigned.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Scripts with letters that look like Latin ones (а/a, ο/o, Ѕ/S, Ꭺ/A ...).
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU")
_WORD = re.compile(r"\w+")


class OutputPathError(Exception):
    """An output folder that cannot be used, and why (``path`` and ``reason``)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{terminal_safe(str(path))}: {reason}")


# ------------------------------------------------------------------------------ names
def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def safe_name(name: str, fallback: str = "scenario", max_chars: int = MAX_NAME_CHARS) -> str:
    """``name`` as one safe folder-name component (``fallback`` if nothing usable is left).

    Letters and digits of any script are kept (after NFKC normalisation, so a
    fullwidth ``ｘ`` becomes ``x``), as are ``-``, ``_`` and ``.``; every other
    run of characters (separators, spaces, punctuation, controls, bidirectional
    marks) becomes one ``_``. Leading and trailing ``.``, ``_`` and ``-`` are
    dropped, so the result is never ``..``, hidden, or option-like, and it is
    cut to ``max_chars`` characters and :data:`MAX_NAME_BYTES` UTF-8 bytes.
    """
    text = unicodedata.normalize("NFKC", str(name))
    kept = "".join(c if (c.isalnum() and not _hidden(c)) or c in "-_." else "_" for c in text)
    kept = re.sub(r"\.{2,}", ".", re.sub(r"_+", "_", kept)).strip("._-")
    kept = kept[:max_chars]
    while len(kept.encode("utf-8")) > MAX_NAME_BYTES:
        kept = kept[:-1]
    kept = kept.strip("._-")
    return kept or fallback


# ------------------------------------------------------------------------------ terminal text
def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _lookalike(char: str) -> bool:
    """A compatibility form of an ASCII letter or digit (fullwidth, mathematical, ligature)."""
    if char.isascii():
        return False
    folded = unicodedata.normalize("NFKC", char)
    return folded != char and folded.isascii() and any(c.isalnum() for c in folded)


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def terminal_safe(text: str, *, multiline: bool = True) -> str:
    r"""``text`` with every non-printing or look-alike character written as an escape.

    Escaped: controls (``\x1b``, so no escape sequence reaches the terminal),
    format and bidirectional characters (``\u202e``), undecodable bytes,
    unusual spaces (``\xa0``), compatibility look-alikes of ASCII letters and
    digits (fullwidth ``\uff41``), and, in a word that also has ASCII letters,
    letters of scripts that look Latin (``\u0430`` in ``\u0430a_mine``).
    Newlines and tabs are kept when ``multiline``. Ordinary text in any script
    (``Überlandwerk``, ``завод``, ``≥``, ``±``, ``Δ``) is printed as it is.
    """
    if text.isascii() and text.isprintable():
        return text
    risky: set[int] = set()
    for word in _WORD.finditer(text):
        chunk = word.group()
        if chunk.isascii() or not any(c.isascii() and c.isalpha() for c in chunk):
            continue
        for offset, char in enumerate(chunk):
            if char.isalpha() and _script(char) in _LOOKALIKE_SCRIPTS:
                risky.add(word.start() + offset)
    out = []
    for i, char in enumerate(text):
        if multiline and char in "\n\t":
            out.append(char)
        elif (
            i in risky
            or _hidden(char)
            or (char.isspace() and char != " ")
            or (not char.isprintable() and char != " ")
            or _lookalike(char)
        ):
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)


# ------------------------------------------------------------------------------ folders
#: errno values that mean "the user's disk, quota or permissions", never a bug.
_RESOURCE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENOMEM,
        errno.EFBIG,
        errno.ELOOP,
    }
)
_ERRNO_TEXT = {
    errno.ENOSPC: "no space left on the device; free some space (or choose another folder)",
    errno.EDQUOT: "disk quota exceeded; free some space (or choose another folder)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENAMETOOLONG: "a name in the path is too long for the file system",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, where a file was expected",
    errno.EMFILE: "too many open files (raise `ulimit -n`, or use fewer --workers)",
    errno.ENFILE: "too many open files on this system",
    errno.ENOMEM: "out of memory",
    errno.EFBIG: "file too large for the file system",
    errno.ELOOP: "too many symbolic links in the path",
}


def _errno_of(exc: OSError) -> int | None:
    """The errno of ``exc``, also when a library (Arrow) put it only in the message."""
    if exc.errno is not None:
        return exc.errno
    match = re.search(r"\[errno (\d+)\]", str(exc), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def is_resource_error(exc: BaseException) -> bool:
    """True for an OS error about disk space, quota, permissions or path shape."""
    return isinstance(exc, OSError) and _errno_of(exc) in _RESOURCE_ERRNOS


def describe_os_error(exc: OSError, about: str | Path | None = None) -> str:
    """A short, plain description of ``exc``, naming its file unless that is ``about``."""
    code = _errno_of(exc)
    text = _ERRNO_TEXT.get(code or -1) or exc.strerror or str(exc)
    filename = getattr(exc, "filename", None)
    if filename is not None and (about is None or Path(os.fsdecode(filename)) != Path(about)):
        return f"{terminal_safe(os.fsdecode(filename))}: {text}"
    return text


def check_output_dir(path: str | Path) -> None:
    """Raise :class:`OutputPathError` if ``path`` cannot become a writable folder.

    Nothing is created. ``path`` may exist (it must then be a folder) or not
    (then the nearest existing ancestor must be a folder this process may
    write in).
    """
    path = Path(path)
    try:
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise OutputPathError(path, "is an existing file, not a folder")
            if not os.access(path, os.W_OK | os.X_OK):
                raise OutputPathError(path, "the folder is not writable (permission denied)")
            return
        for parent in path.absolute().parents:
            if parent.exists() or parent.is_symlink():
                if not parent.is_dir():
                    raise OutputPathError(path, f"cannot be created: {parent} is a file")
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise OutputPathError(
                        path, f"cannot be created: {parent} is not writable (permission denied)"
                    )
                return
    except OSError as exc:  # ENAMETOOLONG, ELOOP, EACCES while looking
        raise OutputPathError(path, describe_os_error(exc, about=path)) from None


def make_output_dir(path: str | Path) -> list[Path]:
    """Create ``path`` (and missing parents) and prove it writable; return what was created.

    The list (outermost first) lets a caller that fails before writing
    anything remove the folders again with :func:`remove_if_empty`.
    """
    path = Path(path)
    check_output_dir(path)
    missing = [p for p in [path, *path.parents] if not (p.exists() or p.is_symlink())]
    missing.reverse()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        remove_if_empty(missing)
        reason = describe_os_error(exc, about=path)
        raise OutputPathError(path, f"cannot create or write the folder: {reason}") from None
    return missing


def remove_if_empty(created: list[Path]) -> None:
    """Remove folders :func:`make_output_dir` created, innermost first, if still empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return
