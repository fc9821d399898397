"""A generated CT study opened in a real web viewer: Cornerstone3D with its DICOM image
loader, bundled from tests/viewer and run in headless Chromium by
tests/viewer/render.mjs. The page is served from its own origin, so dxhub answers it
under CORS; it finds the study with QIDO-RS, reads the series metadata, and draws the
middle slice from WADO-RS frames in a 512x512 stack viewport, once through WebGL
(SwiftShader, no GPU) and once through Cornerstone's CPU renderer. The screenshot of
the viewport must be the stored slice under its stored window, not a blank or uniform
canvas, and the pixels must have come from dxhub.

Needs node, `npm ci --prefix tests/viewer` and Chromium at /usr/bin/chromium (or
$CHROMIUM)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from dxtest import REPO, dicom_files, dicomgen, free_port, read_dataset, storescu

VIEWER = REPO / "tests" / "viewer"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIZE = 512          # the page's viewport element, in CSS pixels at device scale 1
ROWS = COLS = 256   # so each image pixel is drawn as a 2x2 block
SLICES = 20


def _require_tools() -> str:
    node = shutil.which("node")
    assert node, "node is not installed; the viewer test needs node 20 or later"
    for package in ("@cornerstonejs/core", "@cornerstonejs/dicom-image-loader", "esbuild",
                    "playwright-core"):
        assert (VIEWER / "node_modules" / package).is_dir(), (
            f"tests/viewer/node_modules lacks {package}: run `npm ci --prefix tests/viewer`")
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (set CHROMIUM to its path)"
    return node


@pytest.fixture(scope="module")
def study(module_dxhub, tmp_path_factory):
    node = _require_tools()
    root = tmp_path_factory.mktemp("viewer")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--series", "1", "--slices", SLICES,
             "--rows", ROWS, "--cols", COLS, "--seed", "viewer-render")
    files = dicom_files(root / "ct")
    page_port = free_port()
    server = module_dxhub("--cors-origin", f"http://127.0.0.1:{page_port}")
    (root / "work").mkdir()
    outcome = storescu(server, files, root / "work")
    assert outcome.all_succeeded, outcome.output
    datasets = sorted((read_dataset(path) for path in files), key=lambda ds: int(ds.InstanceNumber))
    return node, server, page_port, datasets, root


def render(study, mode: str) -> tuple[dict, np.ndarray]:
    node, server, page_port, _, root = study
    out = root / mode
    argv = [node, VIEWER / "render.mjs", "--dicomweb", f"http://127.0.0.1:{server.http_port}/dicom-web",
            "--port", str(page_port), "--out", out, "--timeout", "60"]
    if mode == "cpu":
        argv.append("--cpu")
    result = subprocess.run([str(part) for part in argv], capture_output=True, text=True,
                            timeout=150, cwd=VIEWER)
    assert result.returncode == 0, f"render.mjs failed:\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout)
    assert report["renderError"] is None and report["render"], (
        f"the page did not render: {report['renderError']}\n"
        f"page errors: {report['pageErrors']}\nconsole errors: {report['consoleErrors']}\n"
        f"failed requests: {report['failedRequests']}")
    screenshot = Image.open(report["screenshot"])
    assert screenshot.size == (SIZE, SIZE), screenshot.size
    return report, np.asarray(screenshot.convert("RGB")).astype(np.float64)


def windowed(ds) -> np.ndarray:
    """The slice as a viewer should show it: modality LUT, then the stored linear window."""
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    lower = center - 0.5 - (width - 1) / 2
    return np.clip((hu - lower) / (width - 1) * 255, 0, 255)


@pytest.mark.parametrize("mode", ["webgl", "cpu"])
def test_cornerstone3d_renders_the_middle_slice(study, mode):
    _, server, page_port, datasets, _ = study
    report, rgb = render(study, mode)
    page = report["render"]
    ds = datasets[len(datasets) // 2]

    # The page saw the study as stored and drew the slice it was asked for.
    assert page["studyUID"] == str(ds.StudyInstanceUID)
    assert page["seriesUID"] == str(ds.SeriesInstanceUID)
    assert page["imageCount"] == SLICES
    assert page["sopInstanceUID"] == str(ds.SOPInstanceUID)
    assert (page["rows"], page["columns"]) == (ROWS, COLS)
    assert page["backend"] == ("cpu" if mode == "cpu" else "gpu"), (
        f"Cornerstone rendered with {page['backend']!r} (WebGL renderer: {page['renderer']!r})")
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    assert page["voiRange"]["lower"] == pytest.approx(center - width / 2, abs=1)
    assert page["voiRange"]["upper"] == pytest.approx(center + width / 2, abs=1)

    # Its requests went to the page's own origin and to dxhub only, and the pixels came
    # from dxhub's WADO-RS frames resource.
    dxhub_origin = f"127.0.0.1:{server.http_port}"
    origins = {urlsplit(request["url"]).netloc for request in report["requests"]}
    assert origins <= {dxhub_origin, f"127.0.0.1:{page_port}"}, origins
    frames = [request for request in report["requests"]
              if urlsplit(request["url"]).netloc == dxhub_origin and request["url"].endswith("/frames/1")]
    assert frames, f"no WADO-RS frame request reached dxhub: {report['requests']}"
    assert all(request["status"] == 200 for request in frames), frames
    assert all(request["contentType"].startswith("multipart/related") for request in frames), frames
    assert any(f"/instances/{ds.SOPInstanceUID}/frames/1" in request["url"] for request in frames)
    assert not report["failedRequests"], report["failedRequests"]
    assert not report["pageErrors"], report["pageErrors"]

    # A greyscale image fills the viewport: many lit pixels, many grey levels, and the
    # pixels vary across it (no uniform fill, no blank canvas).
    assert np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]), \
        "a MONOCHROME2 slice must be drawn in grey"
    grey = rgb[..., 0]
    lit = float((grey > 16).mean())
    assert lit > 0.15, f"only {lit:.1%} of the viewport is lit"
    assert len(np.unique(grey)) > 32, f"only {len(np.unique(grey))} grey levels"
    assert grey.std() > 30, f"the viewport is nearly uniform (std {grey.std():.1f})"
    for half in (grey[: SIZE // 2], grey[SIZE // 2:], grey[:, : SIZE // 2], grey[:, SIZE // 2:]):
        assert half.std() > 10, "one half of the viewport is uniform"

    # And it is this slice, this way up: each 2x2 block of the screenshot matches the
    # stored pixels under the stored window more closely than any other slice of the
    # series or a flipped or transposed copy of this one.
    drawn = grey.reshape(ROWS, SIZE // ROWS, COLS, SIZE // COLS).mean(axis=(1, 3))
    expected = windowed(ds)
    error = float(np.abs(drawn - expected).mean())
    assert error < 3.0, f"the drawn slice differs from the stored one by {error:.2f} grey levels on average"
    rivals = {f"slice {int(other.InstanceNumber)}": windowed(other) for other in datasets if other is not ds}
    rivals.update({"flipped up-down": np.flipud(expected), "flipped left-right": np.fliplr(expected),
                   "transposed": expected.T})
    for name, rival in rivals.items():
        rival_error = float(np.abs(drawn - rival).mean())
        assert error < rival_error, f"the screenshot matches {name} ({rival_error:.2f}) as well as the slice ({error:.2f})"
