// The prepare thread's series of GET /metrics: where bodies were prepared, threads
// lost and restarted, whether one runs now and what it holds (ingest/prepare-supervisor.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import { LOSS_CAUSES, type LossCause, type PrepareObserver, type PreparedWhere } from '../ingest/prepare-supervisor.js';

export class PrepareThreadMetrics implements PrepareObserver {
  private readonly bodies: Counter<'where'>;
  private readonly losses: Counter<'cause'>;
  private readonly restarts: Counter;
  private readonly up: Gauge;

  /** `inFlight`: bodies sent to the thread and not answered yet, read at each scrape. */
  constructor(registry: Registry, inFlight: () => number) {
    this.bodies = new Counter({
      name: 'shadowmesh_ingest_prepared_bodies_total',
      help: 'POST /v1/records bodies prepared (parsed, validated, serialised), on the prepare thread or on the main thread (--ingest-thread off, a lost thread\'s bodies, no thread).',
      labelNames: ['where'],
      registers: [registry],
    });
    for (const where of ['thread', 'main_thread']) this.bodies.inc({ where }, 0);
    this.losses = new Counter({
      name: 'shadowmesh_ingest_thread_losses_total',
      help: 'Prepare threads that ended while the collector ran, by cause (exit, uncaught_error, out_of_memory, not_created, hung: answered nothing for --ingest-thread-timeout-ms and was terminated).',
      labelNames: ['cause'],
      registers: [registry],
    });
    for (const cause of LOSS_CAUSES) this.losses.inc({ cause }, 0);
    this.restarts = new Counter({
      name: 'shadowmesh_ingest_thread_restarts_total',
      help: 'Prepare threads started again after one was lost.',
      registers: [registry],
    });
    this.up = new Gauge({
      name: 'shadowmesh_ingest_thread_up',
      help: '1 while a prepare thread is running and ready, else 0 (not started yet, restarting, given up, or --ingest-thread off).',
      registers: [registry],
    });
    this.up.set(0);
    new Gauge({
      name: 'shadowmesh_ingest_thread_in_flight',
      help: 'Bodies sent to the prepare thread and not answered yet.',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
  }

  prepared(where: PreparedWhere): void {
    this.bodies.inc({ where });
  }

  lost(cause: LossCause): void {
    this.losses.inc({ cause });
  }

  restarted(): void {
    this.restarts.inc();
  }

  running(up: boolean): void {
    this.up.set(up ? 1 : 0);
  }
}
