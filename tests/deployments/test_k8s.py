"""deployments/k8s: valid against the Kubernetes schemas and true to the guide.

Validated with kubernetes-validate in strict mode (unknown fields rejected)
against Kubernetes 1.30, the oldest minor release we support, and 1.33.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from heysh.config import Settings
from heysh.workflows.review import ReviewOptions
from tests.deployments.files import (
    K8S_DIR,
    WORKERS,
    container_env,
    k8s_manifest_files,
    k8s_object,
    k8s_objects,
    load_yaml_documents,
)

KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")
NAMESPACE = "temporal-workers"
DEPLOYMENT_OF = {wtype: names[1] for wtype, names in WORKERS.items()}
ACTIVITY_TIMEOUT_S = {
    "ai-processing": ReviewOptions().ai_timeout_s,
    "storage": ReviewOptions().storage_timeout_s,
    "general": ReviewOptions().general_timeout_s,
}
# The guide's resources per worker type: (cpu, memory, gpu).
RESOURCES = {
    "ai-processing": ("4", "16Gi", "1"),
    "storage": ("2", "8Gi", None),
    "general": ("2", "4Gi", None),
}
# The guide's autoscaling: (max replicas, resource, average utilisation %).
AUTOSCALING = {
    "ai-processing": (5, "cpu", 70),
    "storage": (10, "memory", 80),
    "general": (20, "cpu", 50),
}
MANIFESTS = [
    pytest.param(
        path, index, doc, id=f"{path.name}:{doc['kind']}/{doc['metadata']['name']}"
    )
    for path in k8s_manifest_files()
    for index, doc in enumerate(load_yaml_documents(path))
]


def _container(worker_type: str) -> dict[str, Any]:
    deployment = k8s_object("Deployment", DEPLOYMENT_OF[worker_type])
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_manifests_cover_every_expected_file() -> None:
    """The files the guide applies exist, and each holds at least one object."""
    names = {p.name for p in k8s_manifest_files()}

    assert names == {
        "namespace.yaml",
        "configmaps.yaml",
        "secrets.template.yaml",
        "ai-worker-deployment.yaml",
        "storage-worker-deployment.yaml",
        "general-worker-deployment.yaml",
        "shared-files.yaml",
    }
    assert len(MANIFESTS) >= 18


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("path", "index", "doc"), MANIFESTS)
def test_manifest_is_valid_kubernetes(
    path: Path, index: int, doc: dict[str, Any], version: str
) -> None:
    """Each object validates strictly against that Kubernetes version's schema."""
    kubernetes_validate.validate(doc, version, strict=True)


def test_validation_rejects_an_unknown_field() -> None:
    """The schema check is live: a misspelt Deployment field is an error."""
    deployment = k8s_object("Deployment", "general-worker")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 3}}

    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_every_namespaced_object_is_in_temporal_workers() -> None:
    """All objects live in the temporal-workers namespace of namespace.yaml."""
    namespaces = {o["metadata"]["name"] for o in k8s_objects("Namespace")}
    stray = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in k8s_objects()
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != NAMESPACE
    ]

    assert namespaces == {NAMESPACE}
    assert stray == []


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_deployment_runs_its_worker_type_with_the_guides_resources(
    worker_type: str,
) -> None:
    """Names, WORKER_TYPES and requests/limits are those of the guide."""
    container = _container(worker_type)
    cpu, memory, gpu = RESOURCES[worker_type]
    expected = {"cpu": cpu, "memory": memory} | ({"nvidia.com/gpu": gpu} if gpu else {})

    assert container_env(container)["WORKER_TYPES"] == worker_type
    assert container["resources"] == {"requests": expected, "limits": expected}


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_deployment_probes_health_and_ready_on_the_health_port(
    worker_type: str,
) -> None:
    """Liveness on /health and readiness on /ready, both on port 8080."""
    container = _container(worker_type)
    (port,) = container["ports"]
    config = k8s_object("ConfigMap", "heysh-worker-config")["data"]

    assert port == {"name": "health", "containerPort": 8080, "protocol": "TCP"}
    assert int(config["HEYSH_HEALTH_PORT"]) == port["containerPort"]
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/health",
        "port": "health",
    }
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/ready",
        "port": "health",
    }
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": "health"}


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_deployment_is_scraped_by_prometheus(worker_type: str) -> None:
    """The pod template carries the prometheus.io annotations for /metrics on 8080."""
    deployment = k8s_object("Deployment", DEPLOYMENT_OF[worker_type])
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]

    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
    }


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_termination_grace_outlasts_in_flight_activities(worker_type: str) -> None:
    """Kubernetes waits longer than the worker's grace, itself the activity timeout."""
    spec = k8s_object("Deployment", DEPLOYMENT_OF[worker_type])["spec"]["template"][
        "spec"
    ]
    worker_grace_s = float(
        container_env(_container(worker_type))["HEYSH_WORKER_SHUTDOWN_GRACE_S"]
    )

    assert worker_grace_s >= ACTIVITY_TIMEOUT_S[worker_type]
    assert spec["terminationGracePeriodSeconds"] > worker_grace_s


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_pod_runs_non_root_with_a_read_only_root(worker_type: str) -> None:
    """The pod meets the restricted Pod Security Standard the namespace enforces."""
    pod = k8s_object("Deployment", DEPLOYMENT_OF[worker_type])["spec"]["template"][
        "spec"
    ]
    security = _container(worker_type)["securityContext"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert security == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_storage_worker_mounts_a_persistent_volume_claim_cache() -> None:
    """The storage worker's cache is a PVC (one per pod, from a claim template)."""
    pod = k8s_object("Deployment", "storage-worker")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in _container("storage")["volumeMounts"]}
    claim = volumes["cache"]["ephemeral"]["volumeClaimTemplate"]["spec"]

    assert mounts["cache"] == "/var/lib/heysh/cache"
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert claim["resources"]["requests"]["storage"] == "20Gi"


@pytest.mark.parametrize(
    ("worker_type", "shared"),
    [
        ("ai-processing", {"/var/lib/heysh/blobs": "blobs"}),
        (
            "storage",
            {"/var/lib/heysh/blobs": "blobs", "/var/lib/heysh/archive": "archive"},
        ),
        ("general", {}),
    ],
)
def test_workers_share_blobs_through_one_read_write_many_claim(
    worker_type: str, shared: dict[str, str]
) -> None:
    """AI and storage pods mount the same RWX claim at HEYSH_HOME/blobs (and archive).

    The storage worker writes document texts that the AI worker reads, and
    heysh keeps them as files under HEYSH_HOME (the images set /var/lib/heysh).
    """
    pod = k8s_object("Deployment", DEPLOYMENT_OF[worker_type])["spec"]["template"][
        "spec"
    ]
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    mounts = {
        m["mountPath"]: m.get("subPath")
        for m in _container(worker_type)["volumeMounts"]
        if m["name"] in claims
    }
    claim = k8s_object("PersistentVolumeClaim", "heysh-shared-files")

    assert mounts == shared
    assert set(claims.values()) <= {"heysh-shared-files"}
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_autoscaler_has_the_guides_limit_and_trigger(worker_type: str) -> None:
    """autoscaling/v2 HPA on the deployment, with the guide's maximum and metric."""
    name = DEPLOYMENT_OF[worker_type]
    hpa = k8s_object("HorizontalPodAutoscaler", name)
    max_replicas, resource, utilisation = AUTOSCALING[worker_type]
    (metric,) = hpa["spec"]["metrics"]

    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert hpa["spec"]["maxReplicas"] == max_replicas
    assert metric == {
        "type": "Resource",
        "resource": {
            "name": resource,
            "target": {"type": "Utilization", "averageUtilization": utilisation},
        },
    }


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_disruption_budget_and_policy_select_the_deployments_pods(
    worker_type: str,
) -> None:
    """The PDB and the NetworkPolicy select exactly the deployment's pods."""
    name = DEPLOYMENT_OF[worker_type]
    deployment = k8s_object("Deployment", name)
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert selector.items() <= pod_labels.items()
    assert k8s_object("PodDisruptionBudget", name)["spec"]["selector"][
        "matchLabels"
    ] == (selector)
    assert k8s_object("PodDisruptionBudget", name)["spec"]["maxUnavailable"] == 1
    assert k8s_object("NetworkPolicy", name)["spec"]["podSelector"]["matchLabels"] == (
        selector
    )


def test_namespace_denies_all_traffic_by_default() -> None:
    """A default-deny policy covers every pod; each worker's policy is an allow-list."""
    policy = k8s_object("NetworkPolicy", "default-deny-all")

    assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_ai_worker_egress_reaches_only_temporal_dns_mlflow_and_https() -> None:
    """The AI policy allows DNS, Temporal, MLflow and public 443/7233, nothing else."""
    egress = k8s_object("NetworkPolicy", "ai-processing-worker")["spec"]["egress"]
    allowed = set()
    for rule in egress:
        (peer,) = rule["to"]
        if "ipBlock" in peer:
            assert set(peer["ipBlock"]["except"]) == {
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
            }
            target = "public"
        else:
            target = peer["namespaceSelector"]["matchLabels"][
                "kubernetes.io/metadata.name"
            ]
        allowed |= {(target, p["protocol"], p["port"]) for p in rule["ports"]}

    assert allowed == {
        ("kube-system", "UDP", 53),
        ("kube-system", "TCP", 53),
        ("temporal", "TCP", 7233),
        ("mlflow", "TCP", 5000),
        ("public", "TCP", 443),
        ("public", "TCP", 7233),
    }


def test_configmap_sets_only_settings_heysh_reads() -> None:
    """Every ConfigMap key is a variable heysh/config.py (or the log setup) reads."""
    known = {
        "WORKER_TYPES",
        "MLFLOW_TRACKING_URI",
        "HEYSH_LOG_FORMAT",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    }
    known |= {f"HEYSH_{field.upper()}" for field in Settings.model_fields}
    data = k8s_object("ConfigMap", "heysh-worker-config")["data"]

    assert sorted(set(data) - known) == []
    assert data["HEYSH_TEMPORAL_ADDRESS"].endswith(":7233")


def test_secrets_template_holds_placeholders_only() -> None:
    """Every secret value is REPLACE_ME or a URL whose password is REPLACE_ME."""
    values = {
        f"{s['metadata']['name']}.{key}": value
        for s in k8s_objects("Secret")
        for key, value in s.get("stringData", {}).items()
    }
    real = {
        k: v
        for k, v in values.items()
        if v != "REPLACE_ME"
        and ":REPLACE_ME@" not in v
        and k != "heysh-stores.HEYSH_NEO4J_USER"
    }

    assert not any("data" in s for s in k8s_objects("Secret"))
    assert real == {}


def test_every_secret_a_pod_reads_is_in_the_template() -> None:
    """Each secretKeyRef names a secret and key that secrets.template.yaml defines."""
    template = {
        (s["metadata"]["name"], key)
        for s in k8s_objects("Secret")
        for key in s["stringData"]
    }
    referenced = {
        (value["secretKeyRef"]["name"], value["secretKeyRef"]["key"])
        for wtype in WORKERS
        for value in container_env(_container(wtype)).values()
        if isinstance(value, dict) and "secretKeyRef" in value
    }

    assert referenced
    assert referenced <= template


def test_optional_pod_monitor_selects_the_worker_pods() -> None:
    """The optional PodMonitor picks every worker's pods and their health port."""
    (monitor,) = load_yaml_documents(K8S_DIR / "optional" / "podmonitor.yaml")
    selector = monitor["spec"]["selector"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]

    assert set(selector["matchExpressions"][0]["values"]) == set(DEPLOYMENT_OF.values())
    for wtype in WORKERS:
        labels = k8s_object("Deployment", DEPLOYMENT_OF[wtype])["spec"]["template"][
            "metadata"
        ]["labels"]
        assert selector["matchLabels"].items() <= labels.items()
        assert (
            labels["app.kubernetes.io/component"]
            in selector["matchExpressions"][0]["values"]
        )
        assert endpoint["port"] in {p["name"] for p in _container(wtype)["ports"]}
    assert endpoint["path"] == "/metrics"
