"""kill -9 in the middle of a C-STORE stream loses nothing that was acknowledged and shows
nothing half-written after restart.

storescu sends a few hundred CT slices on one association; once it has logged enough
Success responses the server is killed with SIGKILL, restarted on the same data
directory, and every acknowledged instance must come back by C-GET identical to the
file that was sent. Instances stored but not yet acknowledged may or may not be
there; if they are, they must be whole.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from dxtest import (DCMTK_ENV, RESPONSE, SENDING, assert_same_instance, by_sop_instance,
                    dicom_files, dicomgen, echoscu, findscu, getscu, read_dataset, storescu_argv)

SLICES = 400
KILL_AFTER = 120


@pytest.mark.parametrize("durable", ["true", "false"])
def test_acknowledged_instances_survive_kill_9(dxhub, tmp_path, work, durable):
    dicomgen("ct", "--out", tmp_path / "ct", "--studies", "1", "--slices", SLICES,
             "--rows", "512", "--cols", "512", "--seed", f"crash-{tmp_path.name}")
    files = dicom_files(tmp_path / "ct")
    assert len(files) == SLICES
    try:
        check_crash_recovery(dxhub("--durable", durable), files, work)
    finally:
        shutil.rmtree(tmp_path / "ct", ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def check_crash_recovery(server, files, work):
    sender = subprocess.Popen(storescu_argv(server, files, work), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=DCMTK_ENV)
    acknowledged: list[str] = []
    lines: list[str] = []
    current = None
    killed = False
    deadline = time.monotonic() + 240
    for line in sender.stdout:
        lines.append(line.rstrip("\n"))
        if match := SENDING.match(lines[-1]):
            current = match.group(1)
        elif (match := RESPONSE.match(lines[-1])) and current is not None:
            if match.group(1).startswith("Success"):
                acknowledged.append(current)
            current = None
            if len(acknowledged) >= KILL_AFTER and not killed:
                server.kill()
                killed = True
        assert time.monotonic() < deadline, "storescu took too long"
    sender.wait(60)
    output = "\n".join(lines)
    assert killed, f"storescu finished before {KILL_AFTER} acknowledgements:\n{output[-3000:]}"
    assert len(acknowledged) < SLICES, "the kill came too late to test anything"
    assert sender.returncode != 0 or "Store Failed" in output or len(acknowledged) < SLICES

    server.start()
    assert echoscu(server).returncode == 0

    study_uid = read_dataset(files[0]).StudyInstanceUID
    result = getscu(server, "STUDY", {"StudyInstanceUID": study_uid}, work / "after",
                    prefer="+xe")
    received = by_sop_instance(result.files)
    sent = {str(read_dataset(path).SOPInstanceUID): path for path in files}

    lost = [path for path in acknowledged if str(read_dataset(path).SOPInstanceUID)
            not in received]
    assert not lost, f"{len(lost)} acknowledged instances lost, e.g. {lost[:3]}"
    assert set(received) <= set(sent), "unexpected instances after restart"
    for uid, path in received.items():
        assert_same_instance(sent[uid], path)

    # The index agrees with the blobs: what C-FIND lists is exactly what C-GET returned.
    responses = findscu(server, "IMAGE", {"StudyInstanceUID": study_uid,
                                          "SeriesInstanceUID": "", "SOPInstanceUID": ""})
    assert {str(r.SOPInstanceUID) for r in responses} == set(received)
    assert len(received) <= len(acknowledged) + 2, \
        "more instances than storescu could have sent before the kill"
