"""The deployment files are valid Kubernetes objects (checked against the Kubernetes schemas that
kubernetes-validate ships, offline), fit together (names, ports, labels, probes), carry no secret
values, and the image's default command starts with the Secret the deploy README documents."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.foundation.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
K8S_KINDS = {
    "configmap.yaml": "ConfigMap",
    "deployment.yaml": "Deployment",
    "ingress.yaml": "Ingress",
    "pdb.yaml": "PodDisruptionBudget",
    "service.yaml": "Service",
    "serviceaccount.yaml": "ServiceAccount",
}
# The oldest Kubernetes minor the manifests are meant for (GKE's oldest in standard support) and the newest.
KUBERNETES_VERSIONS = ("1.32", kubernetes_validate.latest_version())
SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSWORD|_PWD$|STATE_URL")
# Literal credentials: Slack tokens, private keys, and a password inside a URL unless it is a $VARIABLE.
LITERAL_SECRETS = re.compile(
    r"xox[abpre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|-----BEGIN|://[^/\s:@]+:(?![$<])[^/\s@]+@"
)


def k8s(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "k8s" / name).read_text())
    return loaded


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return k8s("deployment.yaml")


@pytest.fixture(scope="module")
def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def bot(pod: dict[str, Any]) -> dict[str, Any]:
    [container] = [c for c in pod["containers"] if c["name"] == "amd-bot"]
    found: dict[str, Any] = container
    return found


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", sorted(K8S_KINDS))
def test_every_kubernetes_object_is_valid_for_the_kubernetes_api(name: str, version: str) -> None:
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()))

    assert documents
    for document in documents:
        # strict: a field Kubernetes does not know (a typo, a wrong level) is an error, not ignored
        kubernetes_validate.validate(document, version, strict=True)


def test_the_schema_check_catches_a_misplaced_field() -> None:
    deployment = k8s("deployment.yaml")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["prot"] = "http"

    with pytest.raises(kubernetes_validate.ValidationError, match="'prot' was unexpected"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_slack_manifest_parses() -> None:
    manifest = yaml.safe_load((DEPLOY / "slack" / "manifest.yaml").read_text())

    assert manifest["features"]["slash_commands"][0]["command"] == "/amd"


def test_the_kubernetes_objects_are_the_expected_kinds() -> None:
    kinds = {
        p.name: [d["kind"] for d in yaml.safe_load_all(p.read_text())]
        for p in (DEPLOY / "k8s").glob("*.yaml")
    }

    assert kinds == {name: [kind] for name, kind in K8S_KINDS.items()}


def test_three_replicas_serve_slack_over_http(deployment: dict[str, Any], bot: dict[str, Any]) -> None:
    env = {e["name"]: e.get("value") for e in bot["env"]}

    assert deployment["spec"]["replicas"] == 3
    assert [*bot["command"], *bot["args"]] == ["amd-bot", "serve", "--http", "--port", "8080"]
    assert (env["AMD_WAREHOUSE"], env["AMD_ORCHESTRATOR"]) == ("snowflake", "composer")


def test_probes_point_at_healthz_and_readyz_on_the_served_port(bot: dict[str, Any]) -> None:
    ports = {p["name"]: p["containerPort"] for p in bot["ports"]}

    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert ports[bot[probe]["httpGet"]["port"]] == 8080


def test_secrets_come_from_a_secret_and_nothing_secret_is_written_down(bot: dict[str, Any]) -> None:
    from_secrets = {e["name"] for e in bot["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    secret_looking = {e["name"] for e in bot["env"] if SECRET_ENV.search(e["name"])}

    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "AMD_STATE_URL"} <= from_secrets
    assert secret_looking <= from_secrets
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert not LITERAL_SECRETS.findall(path.read_text()), path
            assert "kind: Secret" not in path.read_text(), path


def test_the_secret_check_would_catch_literal_values() -> None:
    assert LITERAL_SECRETS.search("token: xoxb-1234-5678-abcdef")
    assert LITERAL_SECRETS.search("postgresql+asyncpg://amd_bot:hunter2@db:5432/amd")
    assert not LITERAL_SECRETS.search('state-url="postgresql+asyncpg://amd_bot:${AMD_PG_PASSWORD}@db/amd"')


def test_the_pod_runs_locked_down_with_bounded_resources(pod: dict[str, Any], bot: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    for container in [*pod["containers"], *pod.get("initContainers", [])]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "memory" in container["resources"]["limits"]


def test_amd_config_points_into_the_mounted_configmap(pod: dict[str, Any], bot: dict[str, Any]) -> None:
    env = {e["name"]: e.get("value") for e in bot["env"]}
    mounts = {m["name"]: m["mountPath"] for m in bot["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    [config_volume] = [name for name, v in volumes.items() if "configMap" in v]
    config_map = k8s("configmap.yaml")

    assert env["AMD_CONFIG"] == f"{mounts[config_volume]}/amd.toml"
    assert volumes[config_volume]["configMap"]["name"] == config_map["metadata"]["name"]
    assert {i["key"] for i in volumes[config_volume]["configMap"]["items"]} <= config_map["data"].keys()
    assert env["AMD_DBT_PROFILES_DIR"] == mounts[config_volume]


def test_the_example_amd_toml_is_what_the_bot_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = k8s("configmap.yaml")["data"]["amd.toml"]
    (tmp_path / "amd.toml").write_text(text)
    for name in list(os.environ):
        if name.startswith(("AMD_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AMD_CONFIG", str(tmp_path / "amd.toml"))

    settings = Settings(_env_file=None)

    assert set(tomllib.loads(text)) <= Settings.model_fields.keys(), "a key the bot would silently ignore"
    assert settings.owners["payments-team"] == "S0PAYMENTS"
    rule = settings.access[0]
    assert (rule.action, rule.users, rule.channels) == ("run:amd_*", ["S0PAYMENTS"], ["C0DATAOPS"])
    assert settings.composer_environment is not None
    assert [m.name for m in settings.migrations] == ["delivery_address_history"]


def test_service_pdb_and_ingress_reach_the_pods(deployment: dict[str, Any], bot: dict[str, Any]) -> None:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    port_names = {p["name"] for p in bot["ports"]}
    service, pdb, ingress = k8s("service.yaml"), k8s("pdb.yaml"), k8s("ingress.yaml")
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]

    assert service["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    assert path["path"] == "/slack/events"
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    assert path["backend"]["service"]["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    service_account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert service_account == k8s("serviceaccount.yaml")["metadata"]["name"]


def test_the_image_runs_the_http_server_as_a_non_root_user(bot: dict[str, Any]) -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    instructions = {line.split()[0]: line for line in final_stage if line and not line[0].isspace()}

    assert instructions["FROM"] == "FROM python:3.11-slim"
    assert instructions["USER"].split()[1].split(":")[0] not in {"root", "0"}
    assert json.loads(instructions["CMD"].removeprefix("CMD ")) == [
        "amd-bot",
        "serve",
        "--http",
        "--port",
        "8080",
    ]
    healthcheck = "\n".join(final_stage[final_stage.index(instructions["HEALTHCHECK"]) :][:2])
    assert "http://127.0.0.1:8080/healthz" in healthcheck
    assert instructions["EXPOSE"] == f"EXPOSE {bot['ports'][0]['containerPort']}"


def test_the_deployment_passes_the_start_checks_of_http_mode(bot: dict[str, Any]) -> None:
    """The pods start only with a signing secret and access rules: both must be there, on purpose."""
    env = {e["name"]: e for e in bot["env"]}
    text = k8s("configmap.yaml")["data"]["amd.toml"]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-deploy-check",
        slack_signing_secret="deploy-check-secret",
        **tomllib.loads(text),
    )

    assert not env["SLACK_SIGNING_SECRET"]["valueFrom"]["secretKeyRef"].get("optional", False)
    assert "AMD_ACCESS_OPEN" not in env and "access_open" not in tomllib.loads(text)
    assert settings.serve_refusal(http=True) is None
