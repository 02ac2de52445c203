"""Names from input become safe folder names; text from input reaches the terminal escaped."""

from __future__ import annotations

import errno
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paxsim.sim.safe_paths import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    OutputPathError,
    check_output_dir,
    describe_os_error,
    is_resource_error,
    make_output_dir,
    remove_if_empty,
    safe_name,
    terminal_safe,
)


# ------------------------------------------------------------------------------ safe_name
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tiny", "tiny"),
        ("faster-studies", "faster-studies"),
        ("v1.2", "v1.2"),
        ("faster studies", "faster_studies"),
        ("../../x", "x"),
        ("/etc/passwd", "etc_passwd"),
        ("a/../b", "a_._b"),
        ("C:\\Windows\\x", "C_Windows_x"),
        ("..", "scenario"),
        (".", "scenario"),
        ("", "scenario"),
        ("   ", "scenario"),
        ("\x1b[31mred\x1b[0m", "31mred_0m"),
        ("\u202eevil\u202c", "evil"),
        ("zero\u200bwidth", "zero_width"),
        ("bom\ufeff", "bom"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("Überlandwerk", "Überlandwerk"),
        ("中文", "中文"),
        ("new\nline", "new_line"),
        ("nul\x00byte", "nul_byte"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_safe_name_is_bounded() -> None:
    assert safe_name("x" * 5000) == "x" * MAX_NAME_CHARS
    wide = safe_name("名" * 5000)
    assert len(wide.encode("utf-8")) <= MAX_NAME_BYTES
    assert safe_name("ab", max_chars=1) == "a"
    assert safe_name("/" * 50, fallback="run") == "run"


@given(st.text(max_size=400))
def test_safe_name_is_always_one_harmless_component(name: str) -> None:
    out = safe_name(name)
    assert out
    assert Path(out).name == out and len(Path(out).parts) == 1
    assert "/" not in out and "\\" not in out and "\x00" not in out
    assert ".." not in out and not out.startswith((".", "-"))
    assert len(out) <= MAX_NAME_CHARS and len(out.encode("utf-8")) <= MAX_NAME_BYTES
    assert all(unicodedata.category(c)[0] not in "CZ" for c in out)


# ------------------------------------------------------------------------------ terminal_safe
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain ascii", "plain ascii"),
        ("two\nlines\ttab", "two\nlines\ttab"),
        ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("bell\x07", "bell\\x07"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9b31m", "c1\\x9b31m"),
        ("\u202eevil", "\\u202eevil"),
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
        ("lrm\u200emark\u200f", "lrm\\u200emark\\u200f"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\ufeffbom", "\\ufeffbom"),
        ("nbsp\xa0here", "nbsp\\xa0here"),
        ("bad \udcff byte", "bad \\udcff byte"),
        ("\u0430a_mine", "\\u0430a_mine"),  # Cyrillic а inside a Latin id
        ("gr\u03bfup", "gr\\u03bfup"),  # Greek ο
        ("ｆｕｌｌ", "\\uff46\\uff55\\uff4c\\uff4c"),
        ("math \U0001d41a", "math \\U0001d41a"),
        # ordinary text in any script stays as it is
        ("Δ online (d) ± 3 ≥ 5", "Δ online (d) ± 3 ≥ 5"),
        ("Überlandwerk завод 中文", "Überlandwerk завод 中文"),
    ],
)
def test_terminal_safe(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_terminal_safe_single_line_escapes_newlines() -> None:
    assert terminal_safe("a\nb", multiline=False) == "a\\x0ab"


@given(st.text(max_size=200))
def test_terminal_safe_output_has_no_control_or_format_characters(text: str) -> None:
    shown = terminal_safe(text)
    for char in shown:
        if char in "\n\t":
            continue
        assert unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
    shown.encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogates


# ------------------------------------------------------------------------------ folders
def test_check_output_dir_accepts_new_and_existing_folders(tmp_path: Path) -> None:
    check_output_dir(tmp_path)
    check_output_dir(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # nothing created


def test_check_output_dir_refuses_files_and_paths_under_files(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(OutputPathError, match="existing file"):
        check_output_dir(afile)
    with pytest.raises(OutputPathError, match="afile is a file"):
        check_output_dir(afile / "sub" / "deeper")


def test_make_output_dir_creates_and_reports_what_it_made(tmp_path: Path) -> None:
    made = make_output_dir(tmp_path / "a" / "b")
    assert made == [tmp_path / "a", tmp_path / "a" / "b"]
    assert (tmp_path / "a" / "b").is_dir() and not list((tmp_path / "a" / "b").iterdir())
    remove_if_empty(made)
    assert not (tmp_path / "a").exists()
    assert make_output_dir(tmp_path) == []


@pytest.mark.parametrize(
    "target", ["/proc/paxsim_test_not_here/x", "/sys/paxsim_test_not_here"], ids=["proc", "sys"]
)
def test_make_output_dir_refuses_unwritable_places(target: str) -> None:
    if not Path("/", Path(target).parts[1]).is_dir():
        pytest.skip("no such pseudo file system here")
    with pytest.raises(OutputPathError) as info:
        make_output_dir(target)
    assert target in str(info.value)
    assert not Path(target).exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_output_dir_refuses_read_only_parent(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match="not writable"):
            check_output_dir(locked / "out")
    finally:
        locked.chmod(0o700)


def test_too_long_name_is_an_output_path_error(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="too long"):
        make_output_dir(tmp_path / ("x" * 300))


def test_describe_os_error() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/data/out/x.parquet")
    assert is_resource_error(full)
    assert describe_os_error(full) == "/data/out/x.parquet: no space left on the device; " + (
        "free some space (or choose another folder)"
    )
    assert describe_os_error(full, about="/data/out/x.parquet").startswith("no space left")
    arrow = OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left")
    assert is_resource_error(arrow) and "no space left" in describe_os_error(arrow)
    assert not is_resource_error(OSError(errno.ECONNRESET, "reset"))
    assert not is_resource_error(ValueError("x"))
