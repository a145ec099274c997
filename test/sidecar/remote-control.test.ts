// Issue 11 end to end: steady traffic through the local sidecar (real filter) to a
// real collector process; `shadowmesh pause` stops the shadow copies within two
// batch answers (asserted in counts of copies), `shadowmesh resume` brings them
// back, and production answers every request correctly throughout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { type RunningSidecar, startSidecar } from '../../src/sidecar/index.js';
import { execFile } from 'node:child_process';
import { FILTER_WASM, REPO, type Upstream, requireFilterWasm, send, spawnCli, startUpstream, tempDir, until, writeFile } from './helpers.js';

requireFilterWasm();
const FLUSH_MS = 250;

/** The compiled CLI (`npm run build`), as a user runs it: starts faster than through tsx on a busy machine. */
function shadowmesh(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [`${REPO}bin/shadowmesh.js`, ...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr });
    });
  });
}

/** Polls GET /v1/control until `done` says stop; resolves with when the collector first showed `want`. */
async function watchControl(url: string, want: (c: { sample_percent?: Record<string, number> }) => boolean, done: () => boolean): Promise<number | undefined> {
  while (!done()) {
    const c = (await (await fetch(`${url}/v1/control`)).json()) as { sample_percent?: Record<string, number> };
    if (want(c)) return Date.now();
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

interface Answer { at: number; paused: boolean; copies: number }

describe('remote pause and resume through the collector', () => {
  it('pause stops the copies within two batch answers, resume restores them, production untouched', async (t) => {
    const tmp = tempDir();
    const yaml = readFileSync(`${REPO}test/sidecar/fixtures/filter-driven-baseline.yaml`, 'utf8').replace('                      "baseline_cluster": "baseline",\n', '');
    assert.ok(!yaml.includes('baseline_cluster'));
    const prod = await startUpstream((r, res) => res.end(`prod:${r.body}`));
    const copyTimes: number[] = [];
    const shadow = await startUpstream((r, res) => {
      copyTimes.push(Date.now());
      res.end(`shadow:${r.body}`);
    });
    const collector = await spawnCli(['collector', '--port', '0', '--db', ':memory:']);
    // Between the sidecar and the collector: forwards every batch and notes when each
    // answer went back, whether it carried the pause, and how many copies the shadow had by then.
    const answers: Answer[] = [];
    const relay: Upstream = await startUpstream((r, res) => {
      void (async () => {
        const out = await fetch(`${collector.url}${r.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body });
        const text = await out.text();
        const control = (JSON.parse(text) as { control?: { sample_percent?: Record<string, number> } }).control;
        answers.push({ at: Date.now(), paused: control?.sample_percent?.['*'] === 0, copies: shadow.requests.length });
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(text);
      })();
    });
    let sc: RunningSidecar | undefined;
    let stop = false;
    let sent = 0;
    const startedAt: number[] = [];
    const wrong: string[] = [];
    try {
      sc = await startSidecar({
        envoyConfigPath: writeFile(tmp.dir, 'envoy.yaml', yaml), wasmPath: FILTER_WASM, listenAddress: '127.0.0.1',
        listenerPorts: { ingress: 0 }, adminPort: 0, log: () => {},
        resolve: { production: `127.0.0.1:${prod.port}`, shadow: `127.0.0.1:${shadow.port}`, collector: `127.0.0.1:${relay.port}` },
      });
      const port = sc.port;
      // Steady traffic, one request at a time, bounded in count and time.
      const traffic = (async () => {
        const deadline = Date.now() + 150_000;
        while (!stop && sent < 6000 && Date.now() < deadline) {
          const body = `{"x":${sent}}`;
          startedAt.push(Date.now());
          const r = await send(port, '/predict', { method: 'POST', body }).catch((e: Error) => ({ status: 0, body: e.message }));
          sent++;
          if (r.status !== 200 || r.body !== `prod:${body}`) wrong.push(`${r.status} ${r.body}`);
          await new Promise((res) => setTimeout(res, 5));
        }
      })();

      await until(() => shadow.requests.length >= 20, 10_000);
      const pauseStart = Date.now();
      let cliDone = false;
      const pauseSeen = watchControl(collector.url, (c) => c.sample_percent?.['*'] === 0, () => cliDone);
      const paused = await shadowmesh(['pause', '--url', collector.url]);
      cliDone = true;
      const putAt = (await pauseSeen) ?? Date.now();
      assert.equal(paused.code, 0, paused.stderr);
      // The CLI has exited, so its PUT is done: every answer from here on carries the pause.
      const pauseAt = Date.now();
      // The second batch answer after the pause, and then more traffic and answers after it.
      const after = (): Answer[] => answers.filter((a) => a.at >= pauseAt);
      await until(() => after().length >= 2, 10_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${after().length} answers after the pause, ${answers.length} in all, ${sent} sent, ${shadow.requests.length} copies, ${wrong.slice(0, 3).join('; ')}`);
      });
      const second = after()[1]!;
      assert.equal(second.paused, true, 'answers after the pause carry it');
      const sentAtSecond = sent;
      await until(() => sent >= sentAtSecond + 60 && after().length >= 6, 20_000);
      // A copy carries its request's body, so each copy names the request it belongs to:
      // none of the requests started after the second answer was copied.
      const copiesWhilePaused = shadow.requests.length;
      const startedAfter = startedAt.filter((at) => at >= second.at).length;
      const late = shadow.requests.filter((r) => startedAt[(JSON.parse(r.body) as { x: number }).x]! >= second.at);
      assert.ok(startedAfter >= 60, `${startedAfter} requests after the second answer`);
      assert.deepEqual(late.map((r) => r.body), [], 'no copy of a request started after the second batch answer');
      const firstPaused = after().find((a) => a.paused)!;
      const lastCopyAt = copyTimes[copyTimes.length - 1]!;
      t.diagnostic(`pause: the last copy arrived ${lastCopyAt - putAt} ms after the collector showed the pause ` +
        `(flush interval ${FLUSH_MS} ms; \`shadowmesh pause\` itself ran ${pauseAt - pauseStart} ms); answers after the command exited at ` +
        `+${firstPaused.at - pauseAt} and +${second.at - pauseAt} ms; copies stopped at ${second.copies}; ${sent - sentAtSecond} requests since, none copied`);

      let resumeDone = false;
      const resumeSeen = watchControl(collector.url, (c) => c.sample_percent === undefined, () => resumeDone);
      const resumed = await shadowmesh(['resume', '--url', collector.url]);
      resumeDone = true;
      assert.equal(resumed.code, 0, resumed.stderr);
      const clearedAt = (await resumeSeen) ?? Date.now();
      await until(() => shadow.requests.length >= copiesWhilePaused + 10, 10_000);
      t.diagnostic(`resume: the first copy arrived ${copyTimes[copiesWhilePaused]! - clearedAt} ms after the collector showed the control cleared`);
      stop = true;
      await traffic;
      assert.deepEqual(wrong, [], 'production answered every request, unchanged');
      assert.equal(prod.requests.length, sent);
    } finally {
      stop = true;
      await sc?.close();
      await relay.close();
      await collector.stop();
      await prod.close();
      await shadow.close();
      tmp.cleanup();
    }
  });
});
