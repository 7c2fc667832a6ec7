// Loads HAR files with Chromium DevTools' own HAR importer (the frontend bundled in the
// installed Chromium: models/har/har.js, HARFormat.HARRoot + Importer.requestsFromHARLog, what
// the Network panel's "Import HAR file" runs) and checks that every entry comes back as a
// WebSocket request whose frames — what the Messages pane lists — are exactly the file's
// _webSocketMessages. No npm packages: CDP over --remote-debugging-pipe.
//
// Usage: node devtools_import.mjs FILE...   (CHROMIUM=path overrides the browser binary)
// Exit 0: all imported exactly; 1: a difference; 2: Chromium could not be driven.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const files = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'wsnoop-devtools-'));
const chrome = spawn(process.env.CHROMIUM || 'chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', `--user-data-dir=${profile}`,
  '--remote-debugging-pipe', 'about:blank',
], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });

function done(code, msg) {
  if (msg) console.log(msg);
  // The profile can only go once the browser has stopped writing to it.
  const cleanup = () => {
    try { rmSync(profile, { recursive: true, force: true }); } catch {}
    process.exit(code);
  };
  if (chrome.exitCode !== null || chrome.signalCode !== null) cleanup();
  chrome.once('exit', cleanup);
  setTimeout(cleanup, 5_000).unref();
  chrome.kill();
}
chrome.on('error', (e) => done(2, `cannot start Chromium: ${e.message}`));
setTimeout(() => done(2, 'timed out driving Chromium'), 60_000).unref();

// CDP over the pipe: JSON messages separated by NUL bytes; fd 3 to the browser, fd 4 from it.
let pending = '';
let nextId = 1;
const waiting = new Map();
chrome.stdio[4].on('data', (d) => {
  pending += d;
  let i;
  while ((i = pending.indexOf('\0')) >= 0) {
    const m = JSON.parse(pending.slice(0, i));
    pending = pending.slice(i + 1);
    if (m.id && waiting.has(m.id)) {
      waiting.get(m.id)(m);
      waiting.delete(m.id);
    }
  }
});
function cdp(method, params = {}, sessionId) {
  const id = nextId++;
  chrome.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return new Promise((resolve, reject) => waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result))));
}

// Runs in the DevTools frontend page: imports with DevTools' code, returns what it made.
async function importInDevTools(text) {
  const HAR = await import('./models/har/har.js');
  const log = new HAR.HARFormat.HARRoot(JSON.parse(text)).log;
  const requests = HAR.Importer.Importer.requestsFromHARLog(log);
  return requests.map((r) => ({
    url: r.url(),
    method: r.requestMethod,
    status: r.statusCode,
    protocol: r.protocol,
    resourceType: r.resourceType().name(),
    requestHeaders: r.requestHeaders().length,
    remote: r.remoteAddress(),
    frames: r.frames().map((f) => ({ type: f.type, time: f.time, opcode: f.opCode, data: f.text })),
  }));
}

try {
  const version = await cdp('Browser.getVersion');
  const { targetId } = await cdp('Target.createTarget', { url: 'devtools://devtools/bundled/devtools_app.html' });
  const { sessionId } = await cdp('Target.attachToTarget', { targetId, flatten: true });
  let bad = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    let result;
    for (let attempt = 0; ; attempt++) {
      // The page may still be loading: retry until its module loader answers.
      result = await cdp('Runtime.evaluate', {
        expression: `(${importInDevTools})(${JSON.stringify(text)})`,
        awaitPromise: true,
        returnByValue: true,
      }, sessionId);
      if (!result.exceptionDetails || attempt >= 20) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (result.exceptionDetails) {
      done(2, `${file}: DevTools importer threw: ${JSON.stringify(result.exceptionDetails).slice(0, 500)}`);
    }
    const imported = result.result.value;
    // The importer sorts entries by startedDateTime (a stable sort): do the same.
    const entries = JSON.parse(text).log.entries
      .sort((a, b) => new Date(a.startedDateTime) - new Date(b.startedDateTime));
    const problems = [];
    if (imported.length !== entries.length) problems.push(`${entries.length} entries, ${imported.length} requests`);
    let frames = 0;
    entries.forEach((e, i) => {
      const r = imported[i];
      if (!r) return;
      if (r.resourceType !== 'websocket') problems.push(`#${i}: resource type ${r.resourceType}`);
      if (r.url !== e.request.url) problems.push(`#${i}: url ${r.url}`);
      const want = e._webSocketMessages.map(({ type, time, opcode, data }) => ({ type, time, opcode, data }));
      frames += r.frames.length;
      if (JSON.stringify(r.frames) !== JSON.stringify(want)) {
        problems.push(`#${i} ${e.request.url}: ${want.length} messages in the file, ${r.frames.length} frames imported`);
      }
    });
    if (problems.length) {
      bad++;
      console.log(`DIFFERENT ${file}: ${problems.join('; ')}`);
    } else {
      console.log(`imported ${file} with ${version.product}: ${imported.length} websocket requests, ${frames} frames, all equal to the file's messages`);
      for (const r of imported) {
        const first = r.frames[0] ? JSON.stringify(r.frames[0]) : 'none';
        console.log(`  ${r.method} ${r.url} ${r.status} ${r.protocol} remote=${r.remote} headers=${r.requestHeaders} frames=${r.frames.length} first=${first}`);
      }
    }
  }
  done(bad ? 1 : 0);
} catch (e) {
  done(2, `driving Chromium failed: ${e.message}`);
}
