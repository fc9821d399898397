// Renders a study stored in dxhub with Cornerstone3D in headless Chromium.
//
//   node render.mjs --dicomweb http://127.0.0.1:8042/dicom-web --port 9000 \
//       --out DIR [--study UID] [--cpu] [--timeout 90]
//
// Bundles src/main.js (and the DICOM image loader's decode worker) with esbuild
// into DIR/bundle, serves it from http://127.0.0.1:PORT (a different origin from
// dxhub's, so the archive's CORS answers are exercised), opens the page, waits for
// the first image to render and saves a screenshot of the 512x512 viewport as
// DIR/viewport.png. Prints one JSON object on stdout: what the page reported,
// the DICOMweb requests the browser made, console errors and failed requests.
// Exits non-zero only when the browser could not be driven at all; a page that
// failed to render is reported in the JSON (renderError) for the caller to judge.

import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import { mkdirSync, readFileSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const LOADER = join(HERE, 'node_modules', '@cornerstonejs', 'dicom-image-loader', 'dist', 'esm');

const { values: args } = parseArgs({
  options: {
    dicomweb: { type: 'string' },
    port: { type: 'string' },
    out: { type: 'string' },
    study: { type: 'string' },
    cpu: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '90' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
for (const required of ['dicomweb', 'port', 'out']) {
  if (!args[required]) {
    console.error(`render.mjs: --${required} is required`);
    process.exit(2);
  }
}
const outDir = resolve(args.out);
const bundleDir = join(outDir, 'bundle');
const timeoutMs = Number(args.timeout) * 1000;

// The emscripten codecs and a few dependencies require node's own modules, mostly on
// branches that never run in a browser: each resolves to an empty module so that the
// bundle builds and loads. `events` is the exception: vtk.js's XML reader (imported by
// Cornerstone's mesh cache) extends EventEmitter at load time, so the `events` package,
// the usual browser build of node's module, stands in for it.
const BROWSER_PACKAGES = new Set(['events']);
const NODE_BUILTINS = new Set(builtinModules.filter((name) => !BROWSER_PACKAGES.has(name)));
const emptyNodeModules = {
  name: 'empty-node-builtins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[a-z_:/]+$/ }, ({ path }) => {
      const name = path.replace(/^node:/, '');
      return NODE_BUILTINS.has(name) ? { path: name, namespace: 'empty-node-builtin' } : undefined;
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'empty-node-builtin' },
      () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

async function bundle() {
  mkdirSync(bundleDir, { recursive: true });
  // The loader starts its worker with new Worker(new URL('./decodeImageFrameWorker.js',
  // import.meta.url)); esbuild keeps that expression as it is, so the worker is built
  // as a second entry point with that name next to main.js.
  await build({
    entryPoints: {
      main: join(HERE, 'src', 'main.js'),
      decodeImageFrameWorker: join(LOADER, 'decodeImageFrameWorker.js'),
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: bundleDir,
    plugins: [emptyNodeModules],
    logLevel: 'error',
    absWorkingDir: HERE,
  });
  copyFileSync(join(HERE, 'src', 'index.html'), join(bundleDir, 'index.html'));
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

function serve(port) {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
    const file = join(bundleDir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(bundleDir) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-store',
    });
    response.end(readFileSync(file));
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen(server));
  });
}

async function main() {
  await bundle();
  const server = await serve(Number(args.port));
  const pageOrigin = `http://127.0.0.1:${args.port}`;
  const report = {
    pageOrigin,
    dicomweb: args.dicomweb,
    requestedCPU: args.cpu,
    requests: [],
    failedRequests: [],
    consoleErrors: [],
    pageErrors: [],
  };

  const browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    timeout: 60000,
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      // WebGL in software: ANGLE over SwiftShader, no GPU needed.
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist',
      // No background traffic of the browser's own (updates, safe browsing).
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 640, height: 640 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') {
        report.consoleErrors.push(message.text());
      }
    });
    page.on('pageerror', (error) => report.pageErrors.push(String(error)));
    page.on('requestfinished', async (request) => {
      const response = await request.response();
      report.requests.push({
        method: request.method(),
        url: request.url(),
        status: response ? response.status() : null,
        contentType: response ? response.headers()['content-type'] || null : null,
      });
    });
    page.on('requestfailed', (request) => {
      report.failedRequests.push({ url: request.url(), error: request.failure()?.errorText });
    });

    const query = new URLSearchParams({ dicomweb: args.dicomweb });
    if (args.study) query.set('study', args.study);
    if (args.cpu) query.set('cpu', '1');
    const started = Date.now();
    await page.goto(`${pageOrigin}/index.html?${query}`, { waitUntil: 'load', timeout: 60000 });
    try {
      await page.waitForFunction(() => window.renderDone || window.renderError,
        null, { timeout: timeoutMs, polling: 100 });
    } catch (error) {
      report.renderError = `timed out after ${args.timeout} s waiting for the page: ${error.message}`;
    }
    const state = await page.evaluate(() => ({ done: window.renderDone, error: window.renderError }));
    report.renderMs = Date.now() - started;
    report.render = state.done ?? null;
    report.renderError = state.error ?? report.renderError ?? null;
    report.screenshot = join(outDir, 'viewport.png');
    await page.locator('#viewport').screenshot({ path: report.screenshot, timeout: 30000 });
    await context.close();
  } finally {
    await browser.close();
    server.close();
  }
  process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
}

main().catch((error) => {
  console.error(error?.stack || String(error));
  process.exit(1);
});
