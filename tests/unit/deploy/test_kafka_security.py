"""The deploy files reach Kafka as the project does everywhere: SASL_SSL with SCRAM-SHA-512, ACLs on, each
process its own principal, and every credential a mounted secret file, never a value in the files."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from services.kafka.access import BROKER, OPERATOR, SERVICES
from tests.support import PROJECT_ROOT

yaml = pytest.importorskip("yaml")

COMPOSE = PROJECT_ROOT / "deploy" / "compose"
K8S = PROJECT_ROOT / "deploy" / "k8s"
SENSITIVE = re.compile(r"password|passwd|secret|token|credential|private.?key", re.IGNORECASE)
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


# -- reading the files ------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())


def broker_properties() -> dict[str, str]:
    """The compose broker's server.properties (kafka/start.sh adds only the broker's own login to it)."""
    properties = {}
    for line in (COMPOSE / "kafka" / "server.properties").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith(("#", "!")):
            key, _, value = line.partition("=")
            properties[key.strip()] = value.strip()
    return properties


def k8s_documents() -> list[dict[str, Any]]:
    """What `kubectl apply -k deploy/k8s` applies: rendered by kubectl where it is installed, else the
    kustomization's resources as they are (it has no generators or patches that would change them)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert set(kustomization) <= {"apiVersion", "kind", "resources"}, "no secretGenerator, no patches"
    if shutil.which("kubectl"):
        rendered = subprocess.run(
            ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=True, timeout=120
        ).stdout
        documents = list(yaml.safe_load_all(rendered))
    else:
        documents = [d for name in kustomization["resources"] for d in yaml.safe_load_all((K8S / name).read_text())]
    return [d for d in documents if d]


def matchmaker_services(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if str(s.get("image", "")).startswith("matchmaker:")}


def pods(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Workload name -> its pod spec, for the workloads that run the matchmaker image."""
    found = {}
    for doc in documents:
        if doc["kind"] not in WORKLOADS:
            continue
        spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
        pod = spec["template"]["spec"]
        if any("/matchmaker:" in c["image"] for c in pod["containers"]):
            found[doc["metadata"]["name"]] = pod
    return found


def container_env(container: dict[str, Any], documents: list[dict[str, Any]]) -> dict[str, str]:
    """The container's environment: its ConfigMaps' data (envFrom), then its own literal values."""
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in documents if d["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]])
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def mounted_secret(pod: dict[str, Any], container: dict[str, Any], path: str) -> str | None:
    """The Secret whose volume is mounted at the folder holding `path`, if one is."""
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    folder = path.rsplit("/", 1)[0]
    for mount in container.get("volumeMounts", []):
        if mount["mountPath"] == folder and mount["name"] in secrets:
            return secrets[mount["name"]]
    return None


def scalars(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (str(key), *scalars(value))]
    if isinstance(node, list):
        return [s for item in node for s in scalars(item)]
    return [str(node)]


def literal_secrets(node: Any, where: str = "") -> list[str]:
    """Where a name that sounds secret (password, token, ...) is given a value in the file itself, rather than
    the path of a mounted file (a *_FILE setting) or the name of a Secret object."""
    found = []
    if isinstance(node, dict):
        pairs = list(node.items())
        if isinstance(node.get("name"), str) and "value" in node:  # a Kubernetes env entry
            pairs.append((node["name"], node["value"]))
        for key, value in pairs:
            if isinstance(value, dict | list):
                found += literal_secrets(value, f"{where}.{key}")
            elif SENSITIVE.search(str(key)) and not _refers_to_a_file_or_secret(str(key), value):
                found.append(f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += literal_secrets(item, f"{where}[{index}]")
    return found


def _refers_to_a_file_or_secret(key: str, value: Any) -> bool:
    if key == "secretName":
        return True
    return key.upper().endswith("_FILE") and isinstance(value, str) and value.startswith("/")


# -- the tests --------------------------------------------------------------------------------------


def test_the_literal_secret_check_finds_literals():
    assert literal_secrets({"environment": {"MATCHMAKER_KAFKA_PASSWORD": "hunter2"}})
    assert literal_secrets({"env": [{"name": "MATCHMAKER_KAFKA_PASSWORD", "value": "hunter2"}]})
    assert literal_secrets({"env": [{"name": "MATCHMAKER_KAFKA_PASSWORD_FILE", "value": "hunter2"}]})
    assert not literal_secrets({"env": [{"name": "MATCHMAKER_KAFKA_PASSWORD_FILE", "value": "/run/secrets/x"}]})
    assert not literal_secrets({"volumes": [{"name": "x", "secret": {"secretName": "matchmaker-kafka-worker"}}]})


def test_nothing_speaks_plaintext():
    values = [
        *scalars(compose()),
        *broker_properties().values(),
        *(s for d in k8s_documents() for s in scalars(d)),
    ]
    assert values and not [v for v in values if "PLAINTEXT" in v.upper()]
    properties = broker_properties()
    protocols = dict(pair.split(":") for pair in properties["listener.security.protocol.map"].split(","))
    assert set(protocols.values()) == {"SASL_SSL", "SSL"}
    listeners = [listener.split("://")[0] for listener in properties["listeners"].split(",")]
    assert {protocols[listener] for listener in listeners} == {"SASL_SSL", "SSL"}
    assert properties["controller.listener.names"] == "CONTROLLER" and protocols["CONTROLLER"] == "SSL"
    assert properties["listener.name.controller.ssl.client.auth"] == "required"  # the broker's certificate
    assert properties["advertised.listeners"].startswith("SASL_SSL://")
    assert (
        properties["sasl.enabled.mechanisms"] == properties["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    )


def test_the_compose_broker_denies_what_no_acl_allows_and_reads_its_tls_material_from_secrets():
    properties = broker_properties()
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert set(properties["super.users"].split(";")) == {f"User:{OPERATOR}", f"User:{BROKER}"}
    assert properties["auto.create.topics.enable"] == "false"  # topics come from `matchmaker access sync`
    assert not [key for key in properties if "jaas" in key or "password" in key]  # start.sh adds the login
    kafka = compose()["services"]["kafka"]
    assert kafka["entrypoint"][-1] == "/etc/matchmaker/kafka/start.sh"
    assert {c["target"] for c in kafka["configs"]} >= {
        "/etc/matchmaker/kafka/start.sh",
        "/etc/matchmaker/kafka/server.properties",
    }
    for store in ("keystore", "truststore"):
        assert properties[f"ssl.{store}.type"] == "PEM"
        location = properties[f"ssl.{store}.location"]
        assert location.startswith("/run/secrets/") and location.removeprefix("/run/secrets/") in kafka["secrets"]


def test_each_compose_process_is_its_own_principal_with_its_password_in_a_secret_file():
    document = compose()
    services, secrets = document["services"], document["secrets"]
    assert all(set(secret) == {"file"} for secret in secrets.values())  # files, never literals
    broker_secrets = services["kafka"]["secrets"]
    users = {}
    for name, service in matchmaker_services(services).items():
        env = service["environment"]
        assert env["MATCHMAKER_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["MATCHMAKER_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert "MATCHMAKER_KAFKA_PASSWORD" not in env, name
        for setting in ("MATCHMAKER_KAFKA_PASSWORD_FILE", "MATCHMAKER_KAFKA_CA_FILE"):
            path = env[setting]
            assert path.startswith("/run/secrets/"), (name, setting)
            assert path.removeprefix("/run/secrets/") in service["secrets"], (name, setting)
        users[name] = env["MATCHMAKER_KAFKA_USERNAME"]
        # the broker formats its storage with a SCRAM credential for each password secret it has
        assert env["MATCHMAKER_KAFKA_PASSWORD_FILE"].removeprefix("/run/secrets/") in broker_secrets, name
    assert users["init"] == OPERATOR and services["init"]["command"] == ["access", "sync"]
    assert services["worker"]["depends_on"]["init"] == {"condition": "service_completed_successfully"}
    processes = [user for name, user in users.items() if name != "init"]
    assert processes and set(processes) <= set(SERVICES) and len(set(processes)) == len(processes)
    assert f"kafka-{BROKER}-password" in broker_secrets


def test_each_kubernetes_workload_is_its_own_principal_with_its_password_in_its_own_secret():
    documents = k8s_documents()
    assert not [d for d in documents if d["kind"] == "Secret"]  # created by the operator, not applied from here
    users = {}
    for name, pod in pods(documents).items():
        container = pod["containers"][0]
        env = container_env(container, documents)
        assert env["MATCHMAKER_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["MATCHMAKER_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert env["KAFKA_BOOTSTRAP_SERVERS"] and "MATCHMAKER_KAFKA_PASSWORD" not in env, name
        user = users[name] = env["MATCHMAKER_KAFKA_USERNAME"]
        assert mounted_secret(pod, container, env["MATCHMAKER_KAFKA_PASSWORD_FILE"]) == f"matchmaker-kafka-{user}"
        assert mounted_secret(pod, container, env["MATCHMAKER_KAFKA_CA_FILE"]) == "matchmaker-kafka-ca", name
    assert users.pop("matchmaker-access-sync") == OPERATOR
    assert pods(documents)["matchmaker-access-sync"]["containers"][0]["args"] == ["access", "sync"]
    assert {"matchmaker-worker", "matchmaker-monitor"} <= set(users)
    assert set(users.values()) <= set(SERVICES) and len(set(users.values())) == len(users)


def test_no_deploy_file_holds_a_secret_value():
    assert not literal_secrets(compose(), "compose")
    for document in k8s_documents():
        assert not literal_secrets(document, f"{document['kind']}/{document['metadata']['name']}")
