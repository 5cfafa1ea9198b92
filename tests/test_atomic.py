"""atomic_file: the file appears whole or not at all, with the permissions open() would give it."""

import os
import stat

import pytest

from uncertainty_footprint.atomic import atomic_file


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_the_file_gets_the_permissions_of_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        with atomic_file(tmp_path / "a.json", "w") as f:
            f.write("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o666 & ~mask


def test_a_failure_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    (tmp_path / "a.txt").write_text("before")
    with pytest.raises(RuntimeError):
        with atomic_file(tmp_path / "a.txt", "w") as f:
            f.write("half")
            raise RuntimeError("interrupted")
    assert (tmp_path / "a.txt").read_text() == "before" and os.listdir(tmp_path) == ["a.txt"]
