// Runs DICOMweb calls through the dicomweb-client npm package, as a web viewer would,
// and prints what came back so the integration tests (tests/integration/
// test_dicomweb_client.py) can check it against the stored objects.
//
//   node driver.mjs <DICOMweb base URL>   < calls.json   > answers.json
//
// calls.json is a list of {"method": <DICOMwebClient method>, "options": {...}}; a
// "datasetFiles" option is read into the "datasets" that storeInstances sends, and a
// "client" option is passed to the DICOMwebClient constructor (for example singlepart).
// A "saveTo" option names a folder where the binary parts are written as part-1, part-2...
// Two methods are the driver's own, made of the client's parts:
// - "retrieveWadoUri" fetches the URL that buildInstanceWadoURIUrl makes;
// - "retrieveDicomAs" retrieves a study, series or instance with "mediaTypes"
//   (transfer syntaxes): the client's retrieveStudy/Series/Instance refuse every
//   mediaTypes list (they compare the common type "application/" with
//   "application/dicom"), so this calls the helper they would have called.
// Each answer is {"ok": true, "value": ...} or {"ok": false, "status", "error", "body"};
// binary parts come back as {"bytes", "sha256", "contentType"} and, when short, "base64".
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import XMLHttpRequest from "xhr2";
import dicomweb from "dicomweb-client";

globalThis.XMLHttpRequest = XMLHttpRequest;
// The client logs some calls with console.debug: stdout carries only the answers.
for (const level of ["log", "info", "debug"]) console[level] = console.error;

const INLINE_LIMIT = 4096;

function describeBuffer(buffer) {
  const bytes = buffer instanceof ArrayBuffer ? Buffer.from(buffer) : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const part = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  if (bytes.length <= INLINE_LIMIT) part.base64 = bytes.toString("base64");
  if (buffer.contentType) part.contentType = buffer.contentType;
  return part;
}

function describe(value) {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return describeBuffer(value);
  if (Array.isArray(value)) return value.map(describe);
  if (typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value ?? null;
}

function save(folder, value) {
  mkdirSync(folder, { recursive: true });
  const parts = Array.isArray(value) ? value : [value];
  parts.forEach((part, index) => {
    if (part instanceof ArrayBuffer || ArrayBuffer.isView(part)) {
      const bytes = part instanceof ArrayBuffer ? new Uint8Array(part) : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      writeFileSync(join(folder, `part-${index + 1}`), bytes);
    }
  });
}

function bodyText(response) {
  if (response === undefined || response === null) return "";
  if (response instanceof ArrayBuffer) return Buffer.from(new Uint8Array(response)).toString("utf8");
  return typeof response === "string" ? response : JSON.stringify(response);
}

async function call(baseUrl, { method, options = {} }) {
  const { client: clientOptions = {}, datasetFiles, saveTo, ...rest } = options;
  const client = new dicomweb.api.DICOMwebClient({ url: baseUrl, verbose: false, ...clientOptions });
  if (method === "retrieveWadoUri") {
    client.retrieveWadoUri = (wado) =>
      client._httpGet(client.buildInstanceWadoURIUrl(wado), {}, { responseType: "arraybuffer" });
  }
  if (method === "retrieveDicomAs") {
    client.retrieveDicomAs = ({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, mediaTypes }) => {
      let url = `${client.wadoURL}/studies/${studyInstanceUID}`;
      if (seriesInstanceUID) url += `/series/${seriesInstanceUID}`;
      if (sopInstanceUID) url += `/instances/${sopInstanceUID}`;
      return client._httpGetMultipartApplicationDicom(url, mediaTypes, false, {});
    };
  }
  if (typeof client[method] !== "function") throw new Error(`no DICOMwebClient method ${method}`);
  if (datasetFiles) {
    rest.datasets = datasetFiles.map((path) => {
      const file = readFileSync(path);
      return file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
    });
  }
  try {
    const value = await client[method](rest);
    if (saveTo) save(saveTo, value);
    return { ok: true, value: describe(value) };
  } catch (error) {
    return {
      ok: false,
      status: error.status ?? null,
      error: String(error.message ?? error),
      body: bodyText(error.response),
    };
  }
}

async function main() {
  const baseUrl = process.argv[2];
  if (!baseUrl) throw new Error("usage: node driver.mjs <DICOMweb base URL> < calls.json");
  const calls = JSON.parse(readFileSync(0, "utf8"));
  const answers = [];
  for (const each of calls) answers.push(await call(baseUrl, each));
  process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
