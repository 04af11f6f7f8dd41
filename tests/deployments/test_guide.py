"""docs/deployment.md: every command works against deployments/, every name is real."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from heysh.activities.metrics import REGISTRY
from heysh.domain.config import DomainConfig
from heysh.domain.roles import Role
from tests.deployments.files import (
    CLOUDRUN_DIR,
    COMPOSE_FILE,
    GUIDE,
    REPO_ROOT,
    GuideCommand,
    container_env,
    guide_commands,
    k8s_objects,
    load_compose,
)

COMMANDS = list(guide_commands())
NAMESPACE = "temporal-workers"
# `heysh` commands the guide may use: the CLI contract it relies on.
HEYSH_COMMANDS = {("stack", "up"), ("stack", "down"), ("worker",)}
# docker compose subcommand options that take a value (the rest are switches).
COMPOSE_VALUE_OPTIONS = {
    "--scale",
    "--tail",
    "-t",
    "--timeout",
    "-u",
    "--user",
    "-w",
    "--workdir",
    "-e",
    "--env",
    "--index",
}
# kubectl options that take a value.
KUBECTL_VALUE_OPTIONS = {
    "-n",
    "--namespace",
    "-f",
    "--filename",
    "-l",
    "--selector",
    "-p",
    "--patch",
    "-o",
    "--output",
    "-c",
    "--container",
    "--cert",
    "--key",
    "--replicas",
}


def _segments(command: GuideCommand) -> list[list[str]]:
    """The simple commands of a line: split at |, &&, || and ;."""
    lexer = shlex.shlex(command.text, posix=True, punctuation_chars="|&;")
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in {"|", "&&", "||", ";"}:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def _of(program: str) -> list[tuple[GuideCommand, list[str]]]:
    return [
        (c, words)
        for c in COMMANDS
        for words in _segments(c)
        if words[0] == program
        or (program == "docker compose" and words[:2] == ["docker", "compose"])
    ]


def _id(item: tuple[GuideCommand, list[str]]) -> str:
    return f"line {item[0].line}: {' '.join(item[1])[:60]}"


def _positional(words: list[str], value_options: set[str]) -> list[str]:
    """Words that are neither options nor option values."""
    result, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in value_options
        else:
            result.append(word)
    return result


def test_guide_has_commands_of_every_kind() -> None:
    """The extraction found the guide's kubectl, docker compose and gcloud commands."""
    counts = {
        p: len(_of(p))
        for p in (
            "kubectl",
            "docker compose",
            "gcloud",
            "heysh",
            "deployments/cloudrun/deploy.sh",
            "docker",
        )
    }

    assert counts["kubectl"] >= 15
    assert counts["docker compose"] >= 8
    assert counts["gcloud"] >= 8
    assert counts["heysh"] >= 2
    assert counts["deployments/cloudrun/deploy.sh"] >= 3


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"line {c.line}")
def test_guide_command_names_only_existing_files(command: GuideCommand) -> None:
    """Every repository path a command names exists."""
    paths = [
        w
        for words in _segments(command)
        for w in words
        if w.startswith(("deployments/", "docs/", "heysh/", "./deployments/"))
    ]
    for word in (w for words in _segments(command) for w in words):
        paths += re.findall(r"=(deployments/\S+)", word)

    missing = [p for p in paths if not (REPO_ROOT / p).exists()]

    assert missing == []


@pytest.fixture(scope="module")
def compose_services() -> dict[str, set[str]]:
    """Service names of each compose file the guide may name."""
    return {
        str(path.relative_to(REPO_ROOT)): set(load_compose(path)["services"])
        for path in COMPOSE_FILE.parent.glob("docker-compose*.yml")
    }


@pytest.mark.parametrize("item", _of("docker compose"), ids=_id)
def test_guide_compose_command_names_real_services(
    item: tuple[GuideCommand, list[str]], compose_services: dict[str, set[str]]
) -> None:
    """-f names the compose files; every service, --scale target included, exists."""
    words = item[1][2:]
    files, index = [], 0
    while index < len(words) and words[index].startswith("-"):
        assert words[index] in {"-f", "--file"}, words[index]
        files.append(words[index + 1])
        index += 2
    subcommand, rest = words[index], words[index + 1 :]
    services = set().union(*(compose_services[f] for f in files))
    named = _positional(rest, COMPOSE_VALUE_OPTIONS)
    if subcommand in {"exec", "run"}:
        named = named[:1]
    named += [rest[i + 1].split("=")[0] for i, w in enumerate(rest) if w == "--scale"]

    assert files and files[0] == "deployments/docker-compose.multi-queue.yml"
    assert subcommand in {
        "up",
        "down",
        "ps",
        "logs",
        "exec",
        "run",
        "build",
        "config",
        "restart",
        "stop",
        "pull",
    }
    assert set(named) <= services


@pytest.mark.parametrize("item", _of("kubectl"), ids=_id)
def test_guide_kubectl_command_names_real_objects(
    item: tuple[GuideCommand, list[str]],
) -> None:
    """Namespace, deployments, autoscalers, labels, secrets named exist in k8s/."""
    words = item[1][1:]
    objects: dict[str, set[str]] = {}
    for obj in k8s_objects():
        objects.setdefault(obj["kind"].lower(), set()).add(obj["metadata"]["name"])
    deployments = [o for o in k8s_objects("Deployment")]
    components = {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        for d in deployments
    }
    containers = {
        c["name"]
        for d in deployments
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    aliases = {
        "deployment": "deployment",
        "deploy": "deployment",
        "hpa": "horizontalpodautoscaler",
        "pdb": "poddisruptionbudget",
        "secret": "secret",
    }

    for flag in ("-n", "--namespace"):
        if flag in words:
            assert words[words.index(flag) + 1] == NAMESPACE
    for word in words:
        kind, _, name = word.partition("/")
        if name and kind in aliases:
            assert name in objects[aliases[kind]], word
    for flag in ("-l", "--selector"):
        if flag in words:
            key, _, value = words[words.index(flag) + 1].partition("=")
            assert key == "app.kubernetes.io/component" and value in components
    positional = _positional(words, KUBECTL_VALUE_OPTIONS)
    if positional[:1] == ["patch"] and positional[1] in aliases:
        assert positional[2] in objects[aliases[positional[1]]]
    if positional[:2] == ["set", "image"]:
        container = positional[3].split("=")[0]
        assert container in containers
    if positional[:2] in (["create", "secret"], ["delete", "secret"]):
        _check_secret(positional, words)


def _check_secret(positional: list[str], words: list[str]) -> None:
    """A secret the guide creates has the name and keys the pods read."""
    secret_type, name = (
        (positional[2], positional[3])
        if positional[0] == "create"
        else (None, positional[2])
    )
    template = {
        s["metadata"]["name"]: set(s["stringData"]) for s in k8s_objects("Secret")
    }
    assert name in template
    if secret_type == "generic":
        keys = {w.split("=", 2)[1] for w in words if w.startswith("--from-literal=")}
        assert keys == template[name]
    elif secret_type == "tls":
        flags = {w.split("=")[0] for w in words}
        assert {"--cert", "--key"} <= flags


def _cloudrun_services() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(CLOUDRUN_DIR.glob("*.yaml"))]


@pytest.mark.parametrize("item", _of("gcloud"), ids=_id)
def test_guide_gcloud_command_names_real_services_and_secrets(
    item: tuple[GuideCommand, list[str]],
) -> None:
    """Cloud Run services and Secret Manager secrets named are those of the YAML."""
    words = _positional(item[1][1:], set())
    services = {s["metadata"]["name"] for s in _cloudrun_services()}
    secrets = {
        value["secretKeyRef"]["name"]
        for s in _cloudrun_services()
        for value in container_env(
            s["spec"]["template"]["spec"]["containers"][0]
        ).values()
        if isinstance(value, dict)
    }
    service_accounts = {
        s["spec"]["template"]["spec"]["serviceAccountName"].split("@")[0]
        for s in _cloudrun_services()
    }

    if words[:2] == ["run", "services"]:
        name = words[4] if words[2] == "logs" else words[3]
        assert name in services
    if words[:1] == ["secrets"]:
        assert words[-1] in secrets
    if words[:3] == ["iam", "service-accounts", "create"]:
        assert words[3] in service_accounts


@pytest.mark.parametrize("item", _of("deployments/cloudrun/deploy.sh"), ids=_id)
def test_guide_deploy_sh_invocations_are_valid(
    item: tuple[GuideCommand, list[str]],
) -> None:
    """deploy.sh is called with a known mode and known worker names."""
    words = item[1][1:]
    positional = _positional(words, {"--mode"})

    if "--mode" in words:
        assert words[words.index("--mode") + 1] in {"yaml", "flags"}
    assert set(positional) <= {p.stem for p in CLOUDRUN_DIR.glob("*.yaml")}


@pytest.mark.parametrize("item", _of("heysh"), ids=_id)
def test_guide_heysh_commands_are_known(item: tuple[GuideCommand, list[str]]) -> None:
    """The guide uses only the heysh commands this deployment relies on."""
    assert tuple(item[1][1:]) in HEYSH_COMMANDS


def test_guide_commands_extraction_reads_continuations(tmp_path: Path) -> None:
    """A backslash-continued command is one command; comments and JSON are skipped."""
    guide = tmp_path / "guide.md"
    guide.write_text(
        "```bash\n# a comment\nkubectl apply \\\n  -f x.yaml\n```\n"
        '```json\n{"kubectl": 1}\n```\n'
    )

    commands = list(guide_commands(guide))

    assert [(c.line, c.text) for c in commands] == [(3, "kubectl apply -f x.yaml")]


# ----------------------------------------------------------------------------
# The guide's reference sections against the code.

TEXT = GUIDE.read_text()


def test_guide_documents_every_domain_config_field_and_default() -> None:
    """Each DomainConfig field appears in the table with its default."""
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", TEXT, re.MULTILINE))
    defaults = {
        name: field.default for name, field in DomainConfig.model_fields.items()
    }
    shown = {"()": "empty", "None": "none", "False": "false", "True": "true"}

    assert set(defaults) <= set(rows)
    for name, default in defaults.items():
        text = shown.get(
            repr(default),
            repr(default).removesuffix(".0")
            if isinstance(default, float) and default >= 1000
            else repr(default),
        )
        assert rows[name].strip() == text, name
    assert (
        "0 <= auto_reject_threshold < relevance_threshold"
        " <= auto_approve_threshold <= 10" in TEXT
    )


def test_guide_documents_every_role_in_order() -> None:
    """The three roles are named, ordered Admin > Controller > Contributor."""
    assert "Admin > Controller > Contributor" in TEXT
    for role in Role:
        assert f"(`{role.value}`)" in TEXT


def test_guide_metrics_table_equals_the_metrics_heysh_exposes() -> None:
    """The heysh_* metrics listed are exactly those the worker's registry exposes."""
    families = re.findall(
        r"^# TYPE (heysh_\w+) ", generate_latest(REGISTRY).decode(), re.MULTILINE
    )
    # prometheus_client adds a *_created gauge beside each counter and histogram.
    exposed = {name for name in families if not name.endswith("_created")}
    listed = set(re.findall(r"^\| `(heysh_\w+)` \|", TEXT, re.MULTILINE))

    assert exposed
    assert listed == exposed


@pytest.mark.parametrize(
    "item", [i for i in _of("docker") if i[1][1] == "build"], ids=_id
)
def test_guide_docker_build_uses_declared_build_args(
    item: tuple[GuideCommand, list[str]],
) -> None:
    """docker build names a worker Dockerfile, builds the root, passes declared ARGs."""
    words = item[1]
    dockerfile = REPO_ROOT / words[words.index("-f") + 1]
    declared = set(re.findall(r"^ARG ([A-Z_]+)", dockerfile.read_text(), re.MULTILINE))
    passed = {
        words[i + 1].split("=")[0] for i, w in enumerate(words) if w == "--build-arg"
    }

    assert dockerfile.name.endswith("-worker.Dockerfile")
    assert words[-1] == "."
    assert passed <= declared
