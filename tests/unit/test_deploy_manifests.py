"""The Kubernetes manifests and docker-compose.yml agree with the worker: every environment
variable they set is one streams/config.py reads, probes and scrapes hit the worker's port and
pages, and every file they mount exists. (No cluster or Docker engine here: these checks are
what keeps the files from drifting.)"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.config import from_env

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
COMPOSE = REPO / "docker-compose.yml"
PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"


ENV_NAME = re.compile(r"(QUALSTREAM|KAFKA|REDIS|DEMO)_[A-Z0-9_]*[A-Z0-9]")


def _text(node: ast.AST, consts: dict[str, str]) -> str | None:
    """A string literal, or an f-string made of literals and module-level string constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) \
                    and part.value.id in consts:
                parts.append(consts[part.value.id])
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            else:
                return None
        return "".join(parts)
    return None


def config_env_names() -> set[str]:
    """Every environment variable name streams/config.py (and the streams modules it imports
    settings from) can read: the names spelled in their source, with the ``_FILE`` variant of
    each secret read through ``read_secret``."""
    names: set[str] = set()
    modules = ["config"]
    for module in modules:
        tree = ast.parse((REPO / "streams" / f"{module}.py").read_text(encoding="utf-8"))
        consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                  and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                  for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streams."):
                name = (node.module or "").removeprefix("streams.")
                if name not in modules and (REPO / "streams" / f"{name}.py").exists():
                    modules.append(name)
            text = _text(node, consts)
            if text is not None and ENV_NAME.fullmatch(text):
                names.add(text)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "read_secret":
                secret = _text(node.args[-1], consts)
                if secret is not None:
                    names.add(f"{secret}_FILE")
    return names


def worker_pages() -> set[str]:
    """The paths the worker's web server serves, from a pipeline built (not started) in a
    child process, so no Faust app lingers in this one."""
    code = ("import dataclasses\n"
            "from streams.config import from_env\n"
            "from streams.shell.app import build_pipeline\n"
            "from streams.shell.worker import load_model\n"
            "s = dataclasses.replace(from_env({}), store='memory://')\n"
            "print('\\n'.join(build_pipeline(s, load_model(s)).app.web.views))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=True)
    return set(done.stdout.split())


def manifests() -> Iterator[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            if doc:
                yield doc


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests() if m["kind"] == kind]


@pytest.fixture(scope="module")
def pages() -> set[str]:
    return worker_pages()


def test_the_env_var_reader_finds_what_config_reads() -> None:
    names = config_env_names()
    assert {"KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "QUALSTREAM_WEB_PORT",
            "QUALSTREAM_DATA_DIR", "QUALSTREAM_MODEL"} <= names
    assert {n for n in names if "KAFKA_SASL" in n} == {
        "QUALSTREAM_KAFKA_SASL_MECHANISM", "QUALSTREAM_KAFKA_SASL_USERNAME",
        "QUALSTREAM_KAFKA_SASL_PASSWORD", "QUALSTREAM_KAFKA_SASL_PASSWORD_FILE"}
    assert not [n for n in names if " " in n]


def test_kustomization_lists_every_manifest_and_sets_no_namespace() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    for m in manifests():
        assert "namespace" not in m["metadata"], m["metadata"]["name"]
    kinds = sorted(m["kind"] for m in manifests())
    assert kinds == ["ConfigMap", "PodDisruptionBudget", "Service", "Service", "StatefulSet"]


def test_every_env_var_the_manifests_set_is_read_by_config() -> None:
    (config,) = of_kind("ConfigMap")
    (sts,) = of_kind("StatefulSet")
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    set_here = set(config["data"]) | {e["name"] for e in container.get("env", [])}
    unknown = set_here - config_env_names()
    assert not unknown, f"set in deploy/k8s but never read by streams/config.py: {unknown}"
    assert [r["configMapRef"]["name"] for r in container["envFrom"]] == [
        config["metadata"]["name"]]
    # credentials come from the Secret, never from the ConfigMap
    secret_refs = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert {"REDIS_URL", "QUALSTREAM_KAFKA_SASL_PASSWORD", "QUALSTREAM_API_TOKEN"} <= secret_refs
    assert not [k for k in config["data"] if re.search("PASSWORD|TOKEN|USERNAME|REDIS_URL", k)]
    from_env(config["data"])  # every value parses


def test_statefulset_probes_scrape_and_volumes_match_the_worker(pages: set[str]) -> None:
    (config,) = of_kind("ConfigMap")
    settings = from_env(config["data"])
    (sts,) = of_kind("StatefulSet")
    pod = sts["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == settings.web_port
    assert settings.web_host == "0.0.0.0", "the probes and Prometheus connect from outside"
    probes = {k: container[k]["httpGet"] for k in ("startupProbe", "livenessProbe",
                                                  "readinessProbe")}
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert probes["livenessProbe"]["path"] == "/healthz"
    for probe in probes.values():
        assert probe["path"] in pages
        assert ports.get(probe["port"], probe["port"]) == settings.web_port
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == settings.web_port
    assert annotations["prometheus.io/path"] == "/metrics" and "/metrics" in pages
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"][
        "memory"]
    # RocksDB on a per-pod volume; the model file on the mounted ConfigMap
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    claims = {c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]}
    assert Path(mounts["data"]) == settings.data_dir and "data" in claims
    assert settings.store.startswith("rocksdb")
    assert settings.model_path.parent == Path(mounts["model"])
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["model"]["configMap"]["name"] == "qualstream-model"


def test_services_and_budget_select_the_workers() -> None:
    (sts,) = of_kind("StatefulSet")
    labels = sts["spec"]["template"]["metadata"]["labels"]
    assert sts["spec"]["selector"]["matchLabels"].items() <= labels.items()
    services = {s["metadata"]["name"]: s for s in of_kind("Service")}
    assert services[sts["spec"]["serviceName"]]["spec"]["clusterIP"] == "None"
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    port_names = {p["name"] for p in container["ports"]}
    for service in services.values():
        assert service["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    (pdb,) = of_kind("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def compose_workers() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose()["services"].items()
            if svc.get("command") == ["worker"]}


def test_compose_runs_the_whole_stack() -> None:
    services = compose()["services"]
    assert {"kafka", "redis", "prometheus", "grafana", "generator"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert len(compose_workers()) == 2
    assert services["generator"]["command"][0] == "generate"


def test_compose_mounts_only_files_that_exist() -> None:
    mounted = []
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("."):
                mounted.append(host)
                assert (REPO / host).exists(), f"docker-compose.yml mounts missing {host}"
    assert len(mounted) >= 4
    # Grafana's provisioning layout and the dashboard path the provider reads
    provisioning = REPO / "deploy" / "grafana" / "provisioning"
    assert list((provisioning / "datasources").glob("*.yml"))
    (provider,) = yaml.safe_load(
        next((provisioning / "dashboards").glob("*.yml")).read_text())["providers"]
    grafana = compose()["services"]["grafana"]
    dashboards = [v for v in grafana["volumes"] if v.startswith("./deploy/grafana/qualstream")]
    assert dashboards and dashboards[0].split(":")[1].startswith(provider["options"]["path"])


def test_compose_env_is_read_by_config_and_prometheus_scrapes_each_worker() -> None:
    dockerfile_env = dict(re.findall(r"(\w+)=(\S+)", next(
        line for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.startswith("ENV "))))
    assert dockerfile_env["QUALSTREAM_WEB_HOST"] == "0.0.0.0"
    expected = set()
    for name, worker in compose_workers().items():
        env = {**dockerfile_env, **worker["environment"]}
        assert set(worker["environment"]) <= config_env_names(), name
        port = from_env(env).web_port
        assert [p.split(":")[1] for p in worker["ports"]] == [str(port)], name
        expected.add(f"{name}:{port}")
    prometheus = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "qualstream"]
    targets = {t for c in job["static_configs"] for t in c["targets"]}
    assert targets == expected
    assert job.get("metrics_path", "/metrics") == "/metrics"
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert prometheus["rule_files"] == ["/etc/prometheus/rules/*.yml"]
