"""The files in deploy/ as their own tools read them: nginx -t, promtool, systemd-analyze verify.

Each test needs its tool (`make deploy-tools` installs nginx and Prometheus with apt-get) and says
so when it is absent: skipped, or failed under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import DeskCollector, DeskFigures, ProcessMetrics, exposition
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def tool(name: str) -> str:
    """The path of a command-line tool, or skip (fail under CI) without it."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        message = f"{name} is not installed (make deploy-tools installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool; its output in the assertion message."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = tool("nginx")
    openssl = tool("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ehumas.test",
               "-keyout", str(key), "-out", str(cert))  # fmt: skip
    assert made.returncode == 0, made.stderr
    site = (DEPLOY / "nginx" / "ehumas.conf").read_text(encoding="utf-8")
    # Only the certificate paths change: the rest is tested as shipped.
    site = re.sub(r"ssl_certificate /\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key /\S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    # The http {} context of Debian's nginx.conf, with this test's own paths.
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    checked = run(nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path))
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_keeps_metrics_from_the_world() -> None:
    site = (DEPLOY / "nginx" / "ehumas.conf").read_text(encoding="utf-8")
    blocks = re.findall(r"location (?:= |~ \^?)?(/[^\s{]*)\s*\{(.*?)\}", site, re.S)
    metrics = [body for path, body in blocks if "metrics" in path]
    assert len(metrics) >= 2 and all("deny all;" in body for body in metrics)
    health = [body for path, body in blocks if "healthz" in path]
    assert health and all("deny all;" in body for body in health)


def test_the_alert_rules_pass_their_unit_tests() -> None:
    promtool = tool("promtool")
    checked = run(promtool, "check", "rules", "ehumas-alerts.yml", cwd=DEPLOY / "prometheus")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", "ehumas-alerts.test.yml", cwd=DEPLOY / "prometheus")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_alert_rules_name_metrics_the_bot_exports() -> None:
    process = ProcessMetrics("bot1")
    exported = {
        sample.name
        for family in text_string_to_metric_families(
            exposition(process, DeskCollector(DeskFigures(agencies=["DLHK"]), ["telegram"])).decode()
        )
        for sample in family.samples
    } | {f"{family.name}_total" for family in process.registry.collect() if family.type == "counter"}
    rules = (DEPLOY / "prometheus" / "ehumas-alerts.yml").read_text(encoding="utf-8")
    named = set(re.findall(r"\behumas_[a-z_]+", rules))
    assert named and named <= exported, named - exported


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    # Installed under /opt/ehumas; here the commands must exist, so the paths point at this checkout.
    for name in ("ehumas@.service", "ehumas-backup.service", "ehumas-backup.timer"):
        unit = (DEPLOY / "systemd" / name).read_text(encoding="utf-8").replace("/opt/ehumas", str(ROOT))
        (tmp_path / name.replace("@.", "@bot1.")).write_text(unit, encoding="utf-8")
    units = [str(tmp_path / n) for n in ("ehumas@bot1.service", "ehumas-backup.service", "ehumas-backup.timer")]
    checked = run(analyze, "verify", *units)
    # Any complaint (an unknown key is only a warning) is a failure.
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
    unit = (DEPLOY / "systemd" / "ehumas@.service").read_text(encoding="utf-8")
    assert "User=ehumas" in unit and "NoNewPrivileges=yes" in unit and "ProtectSystem=strict" in unit
