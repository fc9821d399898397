"""Helpers for dxhub integration tests: the server process and real DCMTK clients.

Every DICOM client here is a DCMTK command-line tool (echoscu, storescu, findscu,
getscu, movescu, storescp) run as a subprocess with TCP_NODELAY=1, except for
malformed uploads, which need tests/tools/rawscu.py because storescu refuses to send
what it cannot parse.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TOOLS = REPO / "tests" / "tools"
DICOMGEN = TOOLS / "dicomgen.py"
PYTHON = "/usr/bin/python3"

DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}

READY_LINE = re.compile(r"dxhub ready dicom=([\d.]+):(\d+) http=([\d.]+):(\d+) ae=(\S+) hl7=([\d.]+):(\d+)")

# Transfer syntax UID -> getscu/storescp option preferring it; None: DCMTK has no option.
PREFER_OPTION = {
    "1.2.840.10008.1.2": None,  # getscu 3.6.7 proposes explicit VR for +xi
    "1.2.840.10008.1.2.1": "+xe",
    "1.2.840.10008.1.2.2": "+xb",
    "1.2.840.10008.1.2.1.99": "+xd",
    "1.2.840.10008.1.2.4.50": "+xy",
    "1.2.840.10008.1.2.4.51": "+xx",
    "1.2.840.10008.1.2.4.57": None,
    "1.2.840.10008.1.2.4.70": "+xs",
    "1.2.840.10008.1.2.4.80": "+xt",
    "1.2.840.10008.1.2.4.81": "+xu",
    "1.2.840.10008.1.2.4.90": "+xv",
    "1.2.840.10008.1.2.4.91": "+xw",
    "1.2.840.10008.1.2.5": "+xr",
}
ALL_TRANSFER_SYNTAXES = list(PREFER_OPTION)

# SOP classes the test receiver accepts (storescp is limited to 128 presentation contexts).
RECEIVER_SOP_CLASSES = [
    "1.2.840.10008.5.1.4.1.1.2",      # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.4",      # MR Image Storage
    "1.2.840.10008.5.1.4.1.1.1",      # CR Image Storage
    "1.2.840.10008.5.1.4.1.1.7",      # Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.2",    # Multi-frame Grayscale Byte SC
    "1.2.840.10008.5.1.4.1.1.7.3",    # Multi-frame Grayscale Word SC
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(argv: list[str], timeout: float = 120, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in argv], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env or DCMTK_ENV)


def dicomgen(*args: object, timeout: float = 120) -> None:
    result = run([PYTHON, DICOMGEN, *args], timeout=timeout, env=dict(os.environ))
    assert result.returncode == 0, f"dicomgen {args} failed:\n{result.stdout}{result.stderr}"


def dicom_files(folder: Path) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file()
                  and path.suffix in (".dcm", "") and not path.name.endswith(".json"))


# --------------------------------------------------------------------------- server


@dataclass
class DxhubServer:
    """One `dxhub serve` process on ephemeral loopback ports; restartable on its data dir."""

    binary: str
    data_dir: Path
    log_dir: Path
    ae_title: str = "DXHUB"
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    dicom_port: int = 0
    http_port: int = 0
    hl7_port: int = 0
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"dxhub-{self.data_dir.name}-{self.starts}.log"

    def start(self, timeout: float = 60) -> "DxhubServer":
        assert self.process is None, "already running"
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary, "serve", "--data-dir", str(self.data_dir), "--dicom-port", "0",
                "--http-port", "0", "--hl7-port", "0", "--ae-title", self.ae_title, *self.args]
        log = open(self.log_path, "wb")
        env = {"DXHUB_KNOWLEDGE_DIR": str(REPO / "knowledge"), **os.environ}
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log,
                                        stdin=subprocess.DEVNULL, env=env)
        log.close()
        line_holder: list[bytes] = []
        reader = threading.Thread(target=lambda: line_holder.append(
            self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = line_holder[0].decode(errors="replace") if line_holder else ""
        match = READY_LINE.search(line)
        if not match:
            self.kill()
            raise RuntimeError(f"dxhub did not print its ready line within {timeout}s; "
                               f"stdout={line!r}\n{' '.join(argv)}\nlog tail:\n{self.log_tail()}")
        self.dicom_port = int(match.group(2))
        self.http_port = int(match.group(4))
        self.hl7_port = int(match.group(7))
        assert match.group(5) == self.ae_title, line
        # Keep draining stdout so that a chatty server can never block on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM and wait; returns the exit code (SIGKILL if it does not stop in time)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: the crash the archive must survive."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.kill()
        process.wait()

    def restart(self, args: list[str] | None = None) -> "DxhubServer":
        self.stop()
        if args is not None:
            self.args = args
        return self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def dxhub_cli(binary: str, *args: object, timeout: float = 300) -> subprocess.CompletedProcess:
    return run([binary, *args], timeout=timeout, env=dict(os.environ))


# --------------------------------------------------------------------------- DCMTK clients


def network_args(server: DxhubServer, calling: str, called: str | None = None) -> list[str]:
    return ["-aet", calling, "-aec", called or server.ae_title, "127.0.0.1",
            str(server.dicom_port)]


def echoscu(server: DxhubServer, calling: str = "ECHOSCU") -> subprocess.CompletedProcess:
    return run(["echoscu", "-v", *network_args(server, calling)], timeout=30)


def _association_config(path: Path, profile: str, contexts: list[tuple[str, list[str]]]) -> None:
    lines = ["[[TransferSyntaxes]]"]
    for index, (_, syntaxes) in enumerate(contexts, 1):
        lines.append(f"[TS{index}]")
        lines += [f"TransferSyntax{n} = {uid}" for n, uid in enumerate(syntaxes, 1)]
    lines += ["[[PresentationContexts]]", "[Contexts]"]
    for index, (abstract, _) in enumerate(contexts, 1):
        lines.append(f"PresentationContext{index} = {abstract}\\TS{index}")
    lines += ["[[Profiles]]", f"[{profile}]", "PresentationContexts = Contexts", ""]
    path.write_text("\n".join(lines))


@dataclass
class StoreOutcome:
    returncode: int
    output: str
    statuses: dict[str, str]  # file path -> "Success", "Failed..." text from storescu -v

    def succeeded(self, path: Path | str) -> bool:
        return self.statuses.get(str(path), "").startswith("Success")

    @property
    def all_succeeded(self) -> bool:
        return bool(self.statuses) and all(s.startswith("Success")
                                           for s in self.statuses.values())


SENDING = re.compile(r"^I: Sending file: (.*)$")
RESPONSE = re.compile(r"^I: Received Store Response \((.*)\)\s*$")
STORE_FAILED = re.compile(r"^E: Store Failed, file: (.*?):?$")


def parse_storescu(output: str) -> dict[str, str]:
    """Per file, the outcome storescu -v logged: 'Success', a DIMSE status text, or error."""
    statuses: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        if match := SENDING.match(line):
            current = match.group(1)
            statuses[current] = "no response"
        elif (match := RESPONSE.match(line)) and current is not None:
            statuses[current] = match.group(1)
            current = None
        elif (match := STORE_FAILED.match(line)) and current is not None:
            statuses[current] = "error: store failed"
            current = None
    return statuses


def storescu_argv(server: DxhubServer, files: list[Path], config_dir: Path,
                  calling: str = "STORESCU") -> list[str]:
    """storescu proposing, for each (SOP class, transfer syntax) among the files, exactly
    that transfer syntax, so every object travels as it is in its file."""
    pairs: list[tuple[str, list[str]]] = []
    for path in files:
        meta = dcmread(str(path), stop_before_pixels=True).file_meta
        pair = (str(meta.MediaStorageSOPClassUID), [str(meta.TransferSyntaxUID)])
        if pair not in pairs:
            pairs.append(pair)
    config = Path(tempfile.mkstemp(suffix=".cfg", dir=config_dir)[1])
    _association_config(config, "Sender", pairs)
    return ["storescu", "-v", "-xf", str(config), "Sender",
            *network_args(server, calling), *[str(path) for path in files]]


def storescu(server: DxhubServer, files: list[Path], config_dir: Path,
             calling: str = "STORESCU", timeout: float = 300) -> StoreOutcome:
    result = run(storescu_argv(server, files, config_dir, calling), timeout=timeout)
    output = result.stdout + result.stderr
    return StoreOutcome(result.returncode, output, parse_storescu(output))


def _keys(keys: dict[str, str]) -> list[str]:
    argv = []
    for name, value in keys.items():
        argv += ["-k", f"{name}={value}" if value is not None else name]
    return argv


def findscu(server: DxhubServer, level: str, keys: dict[str, str | None], model: str = "study",
            calling: str = "FINDSCU") -> list[Dataset]:
    """C-FIND; returns the response identifiers (findscu --extract)."""
    with tempfile.TemporaryDirectory() as out:
        result = run(["findscu", "-v", "-S" if model == "study" else "-P",
                      *network_args(server, calling), "-X", "-od", out,
                      "-k", f"QueryRetrieveLevel={level}", *_keys(keys)], timeout=60)
        assert result.returncode == 0, f"findscu failed:\n{result.stdout}{result.stderr}"
        return [dcmread(str(path), force=True) for path in sorted(Path(out).glob("rsp*.dcm"))]


@dataclass
class RetrieveOutcome:
    returncode: int
    output: str
    files: list[Path]


def getscu(server: DxhubServer, level: str, keys: dict[str, str], out: Path,
           prefer: str | None = None, model: str = "study",
           calling: str = "GETSCU") -> RetrieveOutcome:
    out.mkdir(parents=True, exist_ok=True)
    argv = ["getscu", "-v", "-S" if model == "study" else "-P", *network_args(server, calling),
            "+B", "-od", str(out), "-k", f"QueryRetrieveLevel={level}", *_keys(keys)]
    if prefer:
        argv.append(prefer)
    result = run(argv, timeout=300)
    return RetrieveOutcome(result.returncode, result.stdout + result.stderr,
                           sorted(p for p in out.iterdir() if p.is_file()))


def movescu(server: DxhubServer, level: str, keys: dict[str, str], destination: str,
            model: str = "study", calling: str = "MOVESCU") -> subprocess.CompletedProcess:
    return run(["movescu", "-v", "-S" if model == "study" else "-P",
                *network_args(server, calling), "-aem", destination,
                "-k", f"QueryRetrieveLevel={level}", *_keys(keys)], timeout=300)


class StoreSCP:
    """A storescp receiver (C-MOVE destination) on a fixed port, preferring one transfer
    syntax first so that whatever the archive offers is kept as sent."""

    def __init__(self, port: int, ae_title: str, out: Path, work: Path):
        self.port = port
        self.ae_title = ae_title
        self.out = out
        self.work = work
        self.process: subprocess.Popen | None = None

    def start(self, preferred: str | None = None) -> "StoreSCP":
        self.stop()
        if self.out.exists():
            for path in self.out.iterdir():
                path.unlink()
        self.out.mkdir(parents=True, exist_ok=True)
        order = ([preferred] if preferred else []) + [
            uid for uid in ALL_TRANSFER_SYNTAXES if uid != preferred]
        contexts = [("1.2.840.10008.1.1", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])]
        contexts += [(sop_class, order) for sop_class in RECEIVER_SOP_CLASSES]
        config = self.work / f"storescp-{self.port}.cfg"
        _association_config(config, "Receiver", contexts)
        log = open(self.work / f"storescp-{self.port}.log", "ab")
        # +B keeps the dataset bytes exactly as they arrived on the wire.
        self.process = subprocess.Popen(
            ["storescp", "-v", "+B", "-xf", str(config), "Receiver", "-aet", self.ae_title,
             "-od", str(self.out), str(self.port)],
            stdout=log, stderr=log, env=DCMTK_ENV)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"storescp did not start on port {self.port}")

    def files(self) -> list[Path]:
        return sorted(p for p in self.out.iterdir() if p.is_file())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


# --------------------------------------------------------------------------- comparisons


def dataset_bytes(blob: bytes) -> bytes:
    """The data set of a Part 10 file: everything after the file meta group (which a
    receiver rewrites with its own implementation and source AE)."""
    import io
    ds = dcmread(io.BytesIO(blob), stop_before_pixels=True)
    meta_end = 132 + int(ds.file_meta.FileMetaInformationGroupLength) + 12
    return blob[meta_end:]


def read_dataset(path: Path) -> Dataset:
    return dcmread(str(path))


def assert_same_instance(sent: Path, received: Path) -> None:
    """Same transfer syntax, same attributes (file meta excluded), same pixel data bytes."""
    original, copy = read_dataset(sent), read_dataset(received)
    assert str(copy.file_meta.TransferSyntaxUID) == str(original.file_meta.TransferSyntaxUID), (
        f"{received.name}: transfer syntax {copy.file_meta.TransferSyntaxUID} != "
        f"{original.file_meta.TransferSyntaxUID}")
    assert copy.SOPInstanceUID == original.SOPInstanceUID
    if "PixelData" in original:
        assert "PixelData" in copy, f"{received.name}: pixel data missing"
        assert copy.PixelData == original.PixelData, f"{received.name}: pixel data differs"
    missing = sorted(str(e.tag) for e in original if e.tag not in copy)
    assert not missing, f"{received.name}: attributes missing after round trip: {missing}"
    extra = sorted(str(e.tag) for e in copy if e.tag not in original)
    assert not extra, f"{received.name}: attributes added in round trip: {extra}"
    differing = sorted(str(e.tag) for e in original if e.tag != 0x7FE00010 and copy[e.tag] != e)
    assert not differing, f"{received.name}: attribute values differ: {differing}"


def by_sop_instance(files: list[Path]) -> dict[str, Path]:
    out = {}
    for path in files:
        out[str(dcmread(str(path), stop_before_pixels=True).SOPInstanceUID)] = path
    return out
