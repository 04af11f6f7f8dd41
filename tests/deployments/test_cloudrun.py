"""deployments/cloudrun: service definitions, and deploy.sh's two equivalent modes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployments.files import CLOUDRUN_DIR, WORKERS, container_env

DEPLOY_SH = CLOUDRUN_DIR / "deploy.sh"
# Worker (file stem) -> (WORKER_TYPES, cpu, memory, gpu, min, max instances).
EXPECTED = {
    "ai-worker": ("ai-processing", "4", "16Gi", "1", 1, 5),
    "storage-worker": ("storage", "2", "8Gi", None, 2, 10),
    "general-worker": ("general", "2", "4Gi", None, 3, 20),
}
ENVIRONMENT = {
    "PROJECT_ID": "heysh-test-project",
    "REGION": "europe-west4",
    "IMAGE_AI_WORKER": "europe-docker.pkg.dev/heysh-test/heysh/ai-worker:1.2.3",
    "IMAGE_STORAGE_WORKER": "europe-docker.pkg.dev/heysh-test/heysh/storage:1.2.3",
    "IMAGE_GENERAL_WORKER": "europe-docker.pkg.dev/heysh-test/heysh/general:1.2.3",
    "TEMPORAL_ADDRESS": "heysh.a1b2c.tmprl.cloud:7233",
    "MLFLOW_TRACKING_URI": "http://10.20.0.5:5000",
    "VECTOR_URL": "weaviate://10.20.0.6:8080?grpc_port=50051",
    "GRAPH_URL": "neo4j://10.20.0.7:7687",
    "NETWORK": "heysh-vpc",
    "SUBNET": "heysh-workers",
    "NFS_SERVER": "10.20.0.9",
    "NFS_PATH": "/heysh",
}
FAKE_GCLOUD = """#!{python}
import json, os, sys
args = sys.argv[1:]
record = {{"args": args}}
if args[:3] == ["run", "services", "replace"]:
    with open(args[3]) as f:
        record["yaml"] = f.read()
with open(os.environ["FAKE_GCLOUD_LOG"], "a") as f:
    f.write(json.dumps(record) + "\\n")
"""


def _service(stem: str) -> dict[str, Any]:
    return yaml.safe_load((CLOUDRUN_DIR / f"{stem}.yaml").read_text())


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_service_definition_has_required_fields(stem: str) -> None:
    """A Knative-style Cloud Run Service with name, region, image and resources."""
    service = _service(stem)
    (container,) = service["spec"]["template"]["spec"]["containers"]
    _, cpu, memory, gpu, _, _ = EXPECTED[stem]
    limits = {"cpu": cpu, "memory": memory} | ({"nvidia.com/gpu": gpu} if gpu else {})

    assert service["apiVersion"] == "serving.knative.dev/v1"
    assert service["kind"] == "Service"
    assert service["metadata"]["name"] == f"heysh-{stem}"
    assert service["metadata"]["namespace"] == "${PROJECT_ID}"
    assert service["metadata"]["labels"]["cloud.googleapis.com/location"] == "${REGION}"
    assert container["image"] == "${IMAGE_" + stem.upper().replace("-", "_") + "}"
    assert container["resources"] == {"limits": limits}


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_service_keeps_cpu_and_instances_for_a_polling_worker(stem: str) -> None:
    """CPU always allocated, the guide's min/max instances, and internal ingress."""
    service = _service(stem)
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    _, _, _, _, minimum, maximum = EXPECTED[stem]

    assert annotations["run.googleapis.com/cpu-throttling"] == "false"
    assert annotations["autoscaling.knative.dev/minScale"] == str(minimum)
    assert annotations["autoscaling.knative.dev/maxScale"] == str(maximum)
    assert minimum >= 1  # nothing would wake a worker scaled to zero
    assert (
        service["metadata"]["annotations"]["run.googleapis.com/ingress"] == "internal"
    )


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_service_container_port_is_the_health_port(stem: str) -> None:
    """The container port is HEYSH_HEALTH_PORT; both probes call /health on it."""
    (container,) = _service(stem)["spec"]["template"]["spec"]["containers"]
    env = container_env(container)
    (port,) = container["ports"]

    assert env["WORKER_TYPES"] == EXPECTED[stem][0]
    assert int(env["HEYSH_HEALTH_PORT"]) == port["containerPort"] == 8080
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": 8080}


@pytest.mark.parametrize(
    ("stem", "mounts"),
    [
        ("ai-worker", {"blobs"}),
        ("storage-worker", {"blobs", "archive"}),
        ("general-worker", set()),
    ],
)
def test_service_mounts_the_shared_files_it_needs(stem: str, mounts: set[str]) -> None:
    """AI and storage share blobs on NFS (storage the archive too) under HEYSH_HOME."""
    spec = _service(stem)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    volumes = {v["name"]: v["nfs"] for v in spec.get("volumes", [])}
    mounted = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}

    assert set(volumes) == set(mounted) == mounts
    for name in mounts:
        assert volumes[name] == {
            "server": "${NFS_SERVER}",
            "path": f"${{NFS_PATH}}/{name}",
        }
        assert mounted[name] == f"/var/lib/heysh/{name}"


def test_ai_service_requests_one_l4_gpu() -> None:
    """The AI worker runs on an NVIDIA L4 with zonal redundancy off."""
    template = _service("ai-worker")["spec"]["template"]

    assert template["spec"]["nodeSelector"] == {
        "run.googleapis.com/accelerator": "nvidia-l4"
    }
    assert (
        template["metadata"]["annotations"][
            "run.googleapis.com/gpu-zonal-redundancy-disabled"
        ]
        == "true"
    )


def test_service_definitions_use_only_variables_deploy_sh_substitutes() -> None:
    """Every ${VAR} in the YAML is one deploy.sh passes to envsubst."""
    script = DEPLOY_SH.read_text()
    substituted = set(
        re.findall(r"\$\{([A-Z_]+)\}", script.split("substituted=")[1].split("'")[1])
    )
    used = {
        v
        for stem in EXPECTED
        for v in re.findall(
            r"\$\{([A-Z_]+)\}", (CLOUDRUN_DIR / f"{stem}.yaml").read_text()
        )
    }

    assert {"PROJECT_ID", "REGION", "IMAGE_AI_WORKER"} <= used
    assert used <= substituted


def test_deploy_sh_passes_shellcheck(shellcheck: Path) -> None:
    """shellcheck reports nothing on deploy.sh."""
    result = subprocess.run(
        [str(shellcheck), str(DEPLOY_SH)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout


@pytest.fixture
def fake_gcloud(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``gcloud`` only records its arguments, and the log file."""
    if shutil.which("envsubst") is None:
        pytest.skip("envsubst (GNU gettext) is not installed; deploy.sh needs it")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD.format(python=sys.executable))
    gcloud.chmod(0o755)
    log = tmp_path / "gcloud.log"
    env = {
        **ENVIRONMENT,
        "FAKE_GCLOUD_LOG": str(log),
        "TMPDIR": str(tmp_path),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env, log


def _deploy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(DEPLOY_SH), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_deploy_sh_names_every_missing_variable(
    fake_gcloud: tuple[dict[str, str], Path],
) -> None:
    """Without PROJECT_ID and NETWORK it stops, naming both, and calls nothing."""
    env, log = fake_gcloud
    env = {k: v for k, v in env.items() if k not in {"PROJECT_ID", "NETWORK"}}

    result = _deploy(env)

    assert result.returncode == 1
    assert "set these variables first: PROJECT_ID NETWORK" in result.stderr
    assert not log.exists()


def test_deploy_sh_yaml_mode_applies_fully_rendered_services(
    fake_gcloud: tuple[dict[str, str], Path],
) -> None:
    """Default mode runs `gcloud run services replace` on each rendered YAML."""
    env, log = fake_gcloud

    result = _deploy(env)

    assert result.returncode == 0, result.stderr
    records = _records(log)
    assert [r["args"][:3] for r in records] == [["run", "services", "replace"]] * 3
    for record in records:
        assert record["args"][4:] == [
            "--project",
            ENVIRONMENT["PROJECT_ID"],
            "--region",
            ENVIRONMENT["REGION"],
        ]
        assert "${" not in record["yaml"]
        assert (
            yaml.safe_load(record["yaml"])["metadata"]["namespace"]
            == (ENVIRONMENT["PROJECT_ID"])
        )
    assert list(Path(env["TMPDIR"]).glob("heysh-*.yaml")) == []  # cleaned up


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_deploy_sh_flags_mode_equals_the_yaml(
    fake_gcloud: tuple[dict[str, str], Path], stem: str
) -> None:
    """`--mode flags` gives the same settings as the rendered service YAML."""
    env, log = fake_gcloud
    assert _deploy(env, stem).returncode == 0
    rendered = yaml.safe_load(_records(log)[0]["yaml"])
    log.unlink()

    result = _deploy(env, "--mode", "flags", stem)

    assert result.returncode == 0, result.stderr
    (record,) = _records(log)
    assert record["args"][:3] == ["run", "deploy", f"heysh-{stem}"]
    assert _settings_from_flags(record["args"][3:]) == _settings_from_yaml(rendered)


def _settings_from_yaml(service: dict[str, Any]) -> dict[str, Any]:
    template = service["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    (container,) = template["spec"]["containers"]
    network = json.loads(annotations["run.googleapis.com/network-interfaces"])[0]
    limits = container["resources"]["limits"]
    return {
        "project": service["metadata"]["namespace"],
        "region": service["metadata"]["labels"]["cloud.googleapis.com/location"],
        "image": container["image"],
        "port": str(container["ports"][0]["containerPort"]),
        "cpu": limits["cpu"],
        "memory": limits["memory"],
        "gpu": limits.get("nvidia.com/gpu"),
        "gpu-type": template["spec"]
        .get("nodeSelector", {})
        .get("run.googleapis.com/accelerator"),
        "gpu-zonal-redundancy": None
        if "nvidia.com/gpu" not in limits
        else (
            annotations["run.googleapis.com/gpu-zonal-redundancy-disabled"] != "true"
        ),
        "min-instances": annotations["autoscaling.knative.dev/minScale"],
        "max-instances": annotations["autoscaling.knative.dev/maxScale"],
        "cpu-throttling": annotations["run.googleapis.com/cpu-throttling"] == "true",
        "cpu-boost": annotations["run.googleapis.com/startup-cpu-boost"] == "true",
        "execution-environment": annotations[
            "run.googleapis.com/execution-environment"
        ],
        "ingress": service["metadata"]["annotations"]["run.googleapis.com/ingress"],
        "service-account": template["spec"]["serviceAccountName"],
        "network": network["network"],
        "subnet": network["subnetwork"],
        "vpc-egress": annotations["run.googleapis.com/vpc-access-egress"],
        "env": {e["name"]: e["value"] for e in container["env"] if "value" in e},
        "secrets": {
            e["name"]: "{name}:{key}".format(**e["valueFrom"]["secretKeyRef"])
            for e in container["env"]
            if "valueFrom" in e
        },
        "startup-probe": _probe(container["startupProbe"]),
        "liveness-probe": _probe(container["livenessProbe"]),
        "add-volume": sorted(
            f"name={v['name']},type=nfs,location={v['nfs']['server']}:{v['nfs']['path']}"
            for v in template["spec"].get("volumes", [])
        ),
        "add-volume-mount": sorted(
            f"volume={m['name']},mount-path={m['mountPath']}"
            for m in container.get("volumeMounts", [])
        ),
    }


def _probe(probe: dict[str, Any]) -> dict[str, str]:
    flat = {f"httpGet.{k}": str(v) for k, v in probe["httpGet"].items()}
    return flat | {k: str(v) for k, v in probe.items() if k != "httpGet"}


def _settings_from_flags(args: list[str]) -> dict[str, Any]:
    values: dict[str, str] = {}
    repeated: dict[str, list[str]] = {"add-volume": [], "add-volume-mount": []}
    switches: dict[str, bool] = {}
    index = 0
    while index < len(args):
        flag = args[index].removeprefix("--")
        if flag in {
            "no-cpu-throttling",
            "cpu-boost",
            "no-gpu-zonal-redundancy",
            "no-allow-unauthenticated",
        }:
            switches[flag.removeprefix("no-")] = not flag.startswith("no-")
            index += 1
            continue
        assert flag in repeated or flag not in values, f"--{flag} given twice"
        if flag in repeated:
            repeated[flag].append(args[index + 1])
        else:
            values[flag] = args[index + 1]
        index += 2
    env_text = values["set-env-vars"]
    assert env_text.startswith("^;^")
    assert switches.pop("allow-unauthenticated") is False
    return {
        **{
            k: values[k]
            for k in (
                "project",
                "region",
                "image",
                "port",
                "cpu",
                "memory",
                "min-instances",
                "max-instances",
                "execution-environment",
                "ingress",
                "service-account",
                "network",
                "subnet",
                "vpc-egress",
            )
        },
        "gpu": values.get("gpu"),
        "gpu-type": values.get("gpu-type"),
        "gpu-zonal-redundancy": switches.get("gpu-zonal-redundancy"),
        "cpu-throttling": switches["cpu-throttling"],
        "cpu-boost": switches["cpu-boost"],
        "env": dict(item.split("=", 1) for item in env_text[3:].split(";")),
        "secrets": dict(
            item.split("=", 1) for item in values["set-secrets"].split(",")
        ),
        "startup-probe": dict(
            i.split("=", 1) for i in values["startup-probe"].split(",")
        ),
        "liveness-probe": dict(
            i.split("=", 1) for i in values["liveness-probe"].split(",")
        ),
        **{flag: sorted(items) for flag, items in repeated.items()},
    }


def test_worker_types_of_cloud_run_match_the_queues() -> None:
    """The three services cover exactly the three worker types."""
    types = {EXPECTED[stem][0] for stem in EXPECTED}

    assert types == set(WORKERS)
