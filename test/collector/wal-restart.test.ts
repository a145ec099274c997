// The WAL stays short under steady ingestion: the checkpointer thread copies it into
// the database file and the writer starts it over, instead of appending to it until
// the main connection's auto-checkpoint (~200 MB).
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { CollectorConfig } from '../../src/collector/config.js';
import type { BodyItem } from '../../src/collector/ingest/body.js';
import { Joiner } from '../../src/collector/join/joiner.js';
import { Repository } from '../../src/collector/store/repository.js';
import { rec, tempDir } from './helpers.js';

const body = (i: number): string => JSON.stringify({ items: Array.from({ length: 8 }, (_, k) => ({ sku: `sku-${i}-${k}`, score: (i * k) % 97 })), note: 'x'.repeat(400) });

test('WAL: under steady ingestion the file stays a few restart lengths long, and every record is kept', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'wal.db');
  // Restart once the WAL holds 256 frames (1 MiB of 4 KiB pages), checkpoints every 20 ms.
  const repo = new Repository(file, 'normal', undefined, { checkpointMs: 20, restartAtFrames: 256 });
  const joiner = new Joiner(repo, new CollectorConfig(), { joinWindowMs: 600_000, maxPending: 100_000 });
  const walSize = (): number => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  let largest = 0;
  let stored = 0;
  for (let b = 0; b < 320; b++) {
    const items: BodyItem[] = [];
    for (let k = 0; k < 32; k++) {
      const i = b * 32 + k;
      items.push({ index: k, value: rec({ id: `w${i}`, role: 'production', response_body: body(i) }) });
    }
    stored += joiner.ingest(items).accepted;
    largest = Math.max(largest, walSize());
    // One turn of the event loop, as the collector's between groups: the checkpointer's
    // messages come in, but the writer is never idle long enough for it to catch up alone.
    await turn();
  }
  assert.equal(stored, 10240);
  await repo.close();
  const data = statSync(file).size;
  assert.ok(data > 5 * 1024 * 1024, `enough written to need several restarts (${data} bytes of database)`);
  assert.ok(largest < data / 2, `the WAL started over: at most ${largest} bytes, against ${data} of database`);

  const again = new Repository(file);
  try {
    assert.equal(again.db.prepare<[], number>('SELECT count(*) FROM records').pluck().get(), 10240);
  } finally {
    await again.close();
  }
});

test('WAL: a checkpoint thread that fails is logged once and ingestion goes on without it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'nock.db');
  const errors: Error[] = [];
  // The thread cannot load SQLite: it ends with an error at once.
  const repo = new Repository(file, 'normal', undefined, { checkpointMs: 20, sqliteModule: join(dir, 'no-such-module.js'), onError: (e) => errors.push(e) });
  const joiner = new Joiner(repo, new CollectorConfig(), { joinWindowMs: 600_000, maxPending: 1000 });
  const deadline = Date.now() + 10_000;
  while (errors.length === 0 && Date.now() < deadline) await sleep(20);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /the checkpoint thread ended: .*no-such-module/);
  const accepted = joiner.ingest([{ index: 0, value: rec({ id: 'after-failure', role: 'production' }) }]).accepted;
  assert.equal(accepted, 1, 'this process still stores records');
  await repo.close();
  const again = new Repository(file);
  try {
    assert.equal(again.db.prepare<[], number>('SELECT count(*) FROM records').pluck().get(), 1);
  } finally {
    await again.close();
  }
  assert.equal(errors.length, 1, 'logged once');
});
