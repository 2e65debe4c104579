"""Reading the checked-out commit from git's files (a run's manifest, a sweep's resume check)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sim.run.gitref import head_commit

A = "a" * 40
B = "0123456789abcdef" * 2 + "01234567"


def _repo(root, head: str):
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head + "\n")
    return git


def test_branch_in_a_loose_ref_from_a_subfolder(tmp_path):
    git = _repo(tmp_path, "ref: refs/heads/main")
    (git / "refs" / "heads" / "main").write_text(A + "\n")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    assert head_commit(tmp_path / "pkg" / "sub") == A


def test_branch_in_packed_refs_and_a_detached_head(tmp_path):
    git = _repo(tmp_path, "ref: refs/heads/feature/x")
    (git / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{A} refs/heads/feature\n{B} refs/heads/feature/x\n^{A}\n"
    )
    assert head_commit(tmp_path) == B
    (git / "HEAD").write_text(A + "\n")
    assert head_commit(tmp_path) == A


def test_a_worktree_reads_its_head_and_the_shared_refs(tmp_path):
    main = _repo(tmp_path / "main", "ref: refs/heads/main")
    (main / "refs" / "heads" / "side").write_text(B + "\n")
    own = main / "worktrees" / "side"
    own.mkdir(parents=True)
    (own / "HEAD").write_text("ref: refs/heads/side\n")
    (own / "commondir").write_text("../..\n")
    (tmp_path / "side").mkdir()
    (tmp_path / "side" / ".git").write_text(f"gitdir: {own}\n")
    assert head_commit(tmp_path / "side") == B


def test_a_broken_pointer_an_unknown_branch_a_ref_loop_or_escape_give_none(tmp_path):
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / ".git").write_text("not a pointer\n")
    assert head_commit(tmp_path / "odd") is None
    git = _repo(tmp_path / "r", "ref: refs/heads/gone")
    assert head_commit(tmp_path / "r") is None
    (git / "refs" / "heads" / "a").write_text("ref: refs/heads/b\n")
    (git / "refs" / "heads" / "b").write_text("ref: refs/heads/a\n")
    (git / "HEAD").write_text("ref: refs/heads/a\n")
    assert head_commit(tmp_path / "r") is None
    (git / "HEAD").write_text("ref: ../../outside\n")
    assert head_commit(tmp_path / "r") is None


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_agrees_with_git_after_commits_and_pack_refs(tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    (tmp_path / "f").write_text("1")
    git("add", "f")
    git("commit", "-qm", "one")
    assert head_commit(tmp_path) == git("rev-parse", "HEAD")
    git("pack-refs", "--all")
    (tmp_path / "f").write_text("2")
    git("commit", "-qam", "two")
    assert head_commit(tmp_path) == git("rev-parse", "HEAD")
    git("pack-refs", "--all")
    assert not (tmp_path / ".git" / "refs" / "heads" / "main").exists()
    assert head_commit(tmp_path) == git("rev-parse", "HEAD")
