// Opens the first series of a study stored in dxhub in a Cornerstone3D stack
// viewport: QIDO-RS for the study and its series, WADO-RS series metadata for the
// instances, then WADO-RS frames through the DICOM image loader's `wadors:` scheme.
//
// Query parameters: dicomweb (required, the DICOMweb base URL), study (optional
// StudyInstanceUID), cpu=1 (force Cornerstone's CPU rendering path).
// Publishes window.renderDone (an object describing what was drawn) or
// window.renderError (a string).

import {
  Enums,
  RenderingEngine,
  getEffectiveRenderBackend,
  getRenderingCapabilities,
  init as initCore,
  setUseCPURendering,
} from '@cornerstonejs/core';
import {
  init as initLoader,
  wadors,
} from '@cornerstonejs/dicom-image-loader';

const TAG = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  InstanceNumber: '00200013',
};

function first(object, tag) {
  const values = object?.[tag]?.Value;
  return values && values.length ? values[0] : undefined;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/dicom+json' } });
  if (!response.ok) {
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  return response.json();
}

function waitFor(element, eventName, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${eventName} within ${timeoutMs} ms`)), timeoutMs);
    element.addEventListener(eventName, (event) => {
      clearTimeout(timer);
      resolve(event);
    }, { once: true });
  });
}

async function main() {
  const params = new URLSearchParams(window.location.search);
  const base = params.get('dicomweb');
  if (!base) {
    throw new Error('missing ?dicomweb=<DICOMweb base URL>');
  }
  const forceCPU = params.get('cpu') === '1';

  initCore();
  if (forceCPU) {
    setUseCPURendering(true);
  }
  initLoader({ maxWebWorkers: 1 });

  let studyUID = params.get('study');
  if (!studyUID) {
    const studies = await getJson(`${base}/studies`);
    if (!studies.length) {
      throw new Error('QIDO-RS found no study');
    }
    studyUID = first(studies[0], TAG.StudyInstanceUID);
  }
  const series = await getJson(`${base}/studies/${studyUID}/series`);
  if (!series.length) {
    throw new Error(`QIDO-RS found no series in study ${studyUID}`);
  }
  const seriesUID = first(series[0], TAG.SeriesInstanceUID);
  const instances = await getJson(`${base}/studies/${studyUID}/series/${seriesUID}/metadata`);
  instances.sort((a, b) => (first(a, TAG.InstanceNumber) ?? 0) - (first(b, TAG.InstanceNumber) ?? 0));

  const imageIds = instances.map((instance) => {
    const sop = first(instance, TAG.SOPInstanceUID);
    const imageId = `wadors:${base}/studies/${studyUID}/series/${seriesUID}/instances/${sop}/frames/1`;
    wadors.metaDataManager.add(imageId, instance);
    return imageId;
  });

  const element = document.getElementById('viewport');
  const engine = new RenderingEngine('dxhub-viewer-test');
  engine.enableElement({
    viewportId: 'ct',
    type: Enums.ViewportType.STACK,
    element,
    defaultOptions: { background: [0, 0, 0] },
  });
  const viewport = engine.getViewport('ct');

  const index = Math.floor(imageIds.length / 2);
  const rendered = waitFor(element, Enums.Events.IMAGE_RENDERED, 60000);
  await viewport.setStack(imageIds, index);
  viewport.render();
  await rendered;

  const { voiRange } = viewport.getProperties();
  const image = viewport.getCornerstoneImage();
  const imageId = viewport.getCurrentImageId();
  window.renderDone = {
    studyUID,
    seriesUID,
    imageCount: imageIds.length,
    index: viewport.getCurrentImageIdIndex(),
    imageId,
    sopInstanceUID: imageId?.match(/\/instances\/([^/]+)\/frames\//)?.[1] ?? null,
    rows: image?.rows,
    columns: image?.columns,
    minPixelValue: image?.minPixelValue,
    maxPixelValue: image?.maxPixelValue,
    voiRange,
    backend: getEffectiveRenderBackend(),
    usesCPURendering: viewport.useCPURendering,
    webgl: Boolean(getRenderingCapabilities()?.webgl),
    renderer: getRenderingCapabilities()?.renderer ?? null,
  };
}

main().catch((error) => {
  console.error(error);
  window.renderError = String(error?.stack || error);
});
