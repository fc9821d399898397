"""Fixtures: the dxhub binary, servers on ephemeral ports, generated DICOM data.

DXHUB_BIN names the binary (ctest passes $<TARGET_FILE:dxhub>); without it the suite
looks in build/ci and build/release. Each server writes its log to the test's temp
dir; the tail is printed when a test fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from dxtest import REPO, DxhubServer  # noqa: E402


def _find_binary() -> str | None:
    if os.environ.get("DXHUB_BIN"):
        return os.environ["DXHUB_BIN"]
    for preset in ("ci", "release", "debug"):
        candidate = REPO / "build" / preset / "apps" / "dxhub" / "dxhub"
        if candidate.exists():
            return str(candidate)
    return None


@pytest.fixture(scope="session")
def dxhub_bin() -> str:
    binary = _find_binary()
    if binary is None or not Path(binary).exists():
        pytest.fail(f"dxhub binary not found (DXHUB_BIN={os.environ.get('DXHUB_BIN')!r}); "
                    "build it with scripts/build.sh ci")
    return binary


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class ServerFactory:
    """Starts servers on demand; stops all of them at teardown."""

    def __init__(self, binary: str, root: Path):
        self.binary = binary
        self.root = root
        self.servers: list[DxhubServer] = []

    def __call__(self, *args: str, data_dir: Path | None = None, ae_title: str = "DXHUB",
                 start: bool = True) -> DxhubServer:
        index = len(self.servers) + 1
        server = DxhubServer(self.binary, data_dir or self.root / f"data{index}", self.root,
                             ae_title, list(args))
        self.servers.append(server)
        return server.start() if start else server

    def close(self, failed: bool) -> None:
        for server in self.servers:
            if failed:
                print(f"\n--- dxhub log ({server.log_path.name}) ---\n{server.log_tail(60)}")
            server.stop()


def _failed(request) -> bool:
    node = request.node
    return any(getattr(getattr(node, f"report_{when}", None), "failed", False)
               for when in ("setup", "call"))


@pytest.fixture
def dxhub(dxhub_bin, tmp_path, request):
    """Factory: dxhub("--duplicates", "reject") starts a server; all stop at teardown."""
    factory = ServerFactory(dxhub_bin, tmp_path)
    yield factory
    factory.close(_failed(request))


@pytest.fixture(scope="module")
def module_dxhub(dxhub_bin, tmp_path_factory):
    """Like dxhub, shared by the tests of one module."""
    factory = ServerFactory(dxhub_bin, tmp_path_factory.mktemp("dxhub"))
    yield factory
    factory.close(failed=False)


@pytest.fixture
def work(tmp_path) -> Path:
    """Scratch folder for client configs and received files."""
    path = tmp_path / "work"
    path.mkdir()
    return path
