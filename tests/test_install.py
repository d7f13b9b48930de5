"""Installed for real: a wheel of the project in a fresh environment, then `ehumas run` without a configuration.

An editable install reads everything from the repository; a real one has only what the wheel ships
(the playground's example configuration, its page, the migrations). No network: the wheel is built
with this environment's setuptools, installed without dependencies, and the new environment borrows
this one's installed libraries through a .pth file written after the install.
"""

from __future__ import annotations

import shutil
import signal
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from bot.playground.runner import free_port
from tests.conftest import ROOT

# What a build does not need and a copy of the tree need not carry.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.db*", "docs"
)


def _run(*command: str | Path, cwd: Path) -> str:
    """Run a command to completion; its output, or a test failure that shows it."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as `pip install .` builds it (non-editable)."""
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy, so the build's own files (build/, *.egg-info) stay out of the working tree.
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", work, source, cwd=work)
    [built] = work.glob("ehumas_bot-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the project installed from its wheel; its bin directory."""
    environment = tmp_path_factory.mktemp("installed") / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=environment)
    # Only now: pip must not take this environment's editable install for the project already installed.
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=environment)
    borrowed = Path(purelib.strip()) / "borrowed-libraries.pth"
    borrowed.write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return environment / "bin"


def test_the_wheel_holds_the_example_configuration_as_a_file(wheel: Path) -> None:
    """In the tree it is a symlink to the documented file; a wheel must carry the content itself."""
    assert (ROOT / "bot" / "playground" / "config.example.toml").resolve() == (ROOT / "config.example.toml").resolve()
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("bot/playground/config.example.toml")
        names = archive.namelist()
    assert shipped == (ROOT / "config.example.toml").read_bytes()
    assert "storage/migrations/script.py.mako" in names
    assert {"bot/playground/static/index.html", "bot/playground/static/app.js"} <= set(names)


def test_the_installed_package_runs_from_the_environment_not_the_repository(installed: Path, tmp_path: Path) -> None:
    where = _run(
        installed / "python",
        "-c",
        "import bot.playground.runner as r; print(r.__file__); print(r.EXAMPLE); print(r.EXAMPLE.is_symlink())",
        cwd=tmp_path,
    ).split()
    module, example, is_link = Path(where[0]), Path(where[1]), where[2]
    assert installed.parent in module.parents and installed.parent in example.parents
    assert is_link == "False"
    assert example.read_bytes() == (ROOT / "config.example.toml").read_bytes()


def test_ehumas_run_without_a_configuration_starts_the_playground(installed: Path, tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(installed / "ehumas"), "run", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:  # it stopped before saying where it listens: say why
            pytest.fail(f"ehumas run exited ({process.wait(timeout=30)}): {process.communicate()[1]}")
        assert f"http://127.0.0.1:{port}/" in line
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "playground" in page.text
        panes = httpx.get(f"http://127.0.0.1:{port}/playground/api/panes", timeout=10)
        # The agencies come from the shipped example configuration.
        assert {"group-DLHK", "group-PUPR"} <= {pane["key"] for pane in panes.json()["panes"]}
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode in (0, 130), errors  # 130: the usual exit after Ctrl+C
    assert "Traceback" not in errors
    assert (tmp_path / "ehumas-playground.db").exists()
