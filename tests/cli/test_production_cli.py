"""Tests of the production commands: heysh.cli.production, _domains, _reviews.

Domain and member commands run in this process against a fresh embedded
metadata store. Commands that talk to Temporal end their process with
``os._exit`` (see heysh.cli._temporal_calls), so they run as subprocesses;
the complete session against a real stack is in tests/stack/test_stack_e2e.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from heysh.cli._reviews import _files_of, _resolve_doc
from heysh.cli.main import main
from heysh.errors import DocumentError
from tests.research_fixtures import run_heysh
from tests.temporal_server import free_port


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HEYSH_HOME, with the working directory outside the repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEYSH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _heysh(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _create_news(
    capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    return _heysh(
        capsys,
        "domain",
        "create",
        "news",
        "--name",
        "World news",
        "--description",
        "World politics.",
        *extra,
    )


def test_domain_create_valid_config_prints_domain_and_pool_members(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new domain is stored; its controllers become members with that role."""
    code, out, _ = _create_news(
        capsys,
        "--controller",
        "ann",
        "--controller",
        "bob",
        "--auto-approve",
        "9",
        "--auto-reject",
        "off",
        "--escalation-timeout",
        "3600",
    )

    assert code == 0
    assert out == (
        "domain:      news\n"
        "name:        World news\n"
        "description: World politics.\n"
        "language:    en\n"
        "thresholds:  reject <= off | relevance 7 | approve >= 9\n"
        "gray zone:   human, round-robin; pool ann, bob; escalation after 3600 s\n"
        "feedback:    audit 2.0% of automatic decisions; review order arrival; "
        "notifications by log\n"
        "members:     ann (controller), bob (controller)\n"
    )


def test_domain_create_invalid_thresholds_one_line_error_naming_field(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config breaking the threshold order exits 1 naming the field, no traceback."""
    code, out, err = _create_news(
        capsys, "--controller", "ann", "--relevance-threshold", "9"
    )

    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == (
        "heysh: error: invalid domain config: config: Value error, "
        "auto_approve_threshold (8.5) must be at or above relevance_threshold (9.0); "
        "raise auto_approve_threshold or lower relevance_threshold"
    )


def test_domain_create_empty_pool_without_ai_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without controllers the AI must decide the gray zone, else it is refused."""
    code, _, err = _create_news(capsys)

    assert code == 1
    assert "controller_pool is empty and use_ai_controller is false" in err
    assert _heysh(capsys, "domain", "list")[1] == (
        "no domains yet: create one with heysh domain create\n"
    )


def test_domain_create_existing_domain_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Creating a domain twice is an error that points at update."""
    _create_news(capsys, "--ai-controller")

    code, _, err = _create_news(capsys, "--ai-controller")

    assert code == 1
    assert err.splitlines()[-1] == (
        "heysh: error: domain 'news' already exists; change it with heysh domain update"
    )


def test_domain_update_changes_only_given_fields(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Update keeps what is not given and validates the merged config."""
    _create_news(capsys, "--controller", "ann", "--auto-reject", "3")

    code, out, _ = _heysh(
        capsys, "domain", "update", "news", "--ai-controller", "--auto-approve", "off"
    )
    bad, _, err = _heysh(capsys, "domain", "update", "news", "--auto-reject", "7.5")
    _, listed, _ = _heysh(capsys, "domain", "list")

    assert code == 0
    assert "thresholds:  reject <= 3 | relevance 7 | approve >= off\n" in out
    assert "gray zone:   AI at relevance threshold; pool ann;" in out
    assert bad == 1
    assert "auto_reject_threshold (7.5) must be below relevance_threshold (7.0)" in err
    assert listed.split() == [
        "news",
        "World",
        "news",
        "reject",
        "<=",
        "3",
        "|",
        "relevance",
        "7",
        "|",
        "approve",
        ">=",
        "off",
    ]


def test_domain_show_unknown_domain_lists_known(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Showing a domain that does not exist names the ones that do."""
    _create_news(capsys, "--ai-controller")

    code, _, err = _heysh(capsys, "domain", "show", "sport")

    assert code == 1
    assert err.splitlines()[-1] == (
        "heysh: error: domain 'sport' does not exist (known: news)"
    )


def test_member_add_list_remove_round_trip(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Members are added with a role, listed by id, and removed."""
    _create_news(capsys, "--controller", "ann")

    added = _heysh(capsys, "member", "add", "news", "carl", "--role", "contributor")
    _heysh(capsys, "member", "add", "news", "ada", "--role", "admin")
    listed = _heysh(capsys, "member", "list", "news")[1]
    removed = _heysh(capsys, "member", "remove", "news", "carl")
    again = _heysh(capsys, "member", "remove", "news", "carl")
    pool = _heysh(capsys, "member", "remove", "news", "ann")

    assert added == (0, "carl is contributor in news\n", added[2])
    assert listed.split() == [
        "ada",
        "admin",
        "ann",
        "controller",
        "carl",
        "contributor",
    ]
    assert removed[:2] == (0, "carl removed from news\n")
    assert again[0] == 1
    assert again[2].splitlines()[-1] == "heysh: error: carl is not a member of news"
    assert pool[0] == 1
    assert "ann is in the controller pool of news" in pool[2]


def test_member_add_unknown_role_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A role outside admin, controller, contributor is refused by the parser."""
    with pytest.raises(SystemExit) as exited:
        main(["member", "add", "news", "carl", "--role", "owner"])

    assert exited.value.code == 2
    assert "invalid choice: 'owner'" in capsys.readouterr().err


def test_files_of_folder_yields_visible_files_sorted(tmp_path: Path) -> None:
    """A folder gives every non-hidden file below it, in sorted order."""
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b/2.txt", "a.txt", ".hidden", ".git/config", "b/1.pdf"):
        (tmp_path / name).write_text("x")

    files = list(_files_of([tmp_path]))

    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a.txt",
        "b/1.pdf",
        "b/2.txt",
    ]


def test_files_of_missing_path_raises_document_error(tmp_path: Path) -> None:
    """A path that does not exist is named in the error."""
    with pytest.raises(DocumentError, match="nope is neither a file nor a folder"):
        list(_files_of([tmp_path / "nope"]))


@pytest.mark.parametrize("doc", ["abc", "zzzzzzzzzz"])
def test_resolve_doc_short_or_non_hex_prefix_raises_document_error(doc: str) -> None:
    """A document must be a full id or a hex prefix of at least 8 characters."""
    with pytest.raises(DocumentError, match=r"neither an id .* nor a prefix"):
        asyncio.run(_resolve_doc(None, "news", doc))


def test_decide_no_temporal_one_line_error_no_traceback(tmp_path: Path) -> None:
    """Without a server, decide exits 1 with one line naming the address."""
    address = f"127.0.0.1:{free_port()}"

    run = run_heysh(
        "decide",
        "a" * 64,
        "--domain",
        "news",
        "--user",
        "ann",
        "--approve",
        cwd=tmp_path,
        timeout_s=120,
        env={"HEYSH_HOME": str(tmp_path / "home"), "HEYSH_TEMPORAL_ADDRESS": address},
    )

    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.splitlines()[-1].startswith(
        f"heysh: error: cannot reach Temporal at {address} (namespace default)"
    )
    assert "Traceback" not in run.stderr


def test_stack_status_nothing_started_exits_3(tmp_path: Path) -> None:
    """Status of a home where no stack was started says so and exits 3."""
    run = run_heysh(
        "stack",
        "status",
        cwd=tmp_path,
        timeout_s=120,
        env={"HEYSH_HOME": str(tmp_path / "home")},
    )

    assert run.returncode == 3
    assert run.stdout == "not running: nothing recorded in stack.json\n"
