// One direction (request or response) of a stream through the filter chain.
// Each stage holds events while its filter has stopped iteration and replays
// them on resume, so a filter that returns Continue costs nothing extra and one
// that stops sees Envoy's buffering rules.
import type { BodyChunk, FilterStatus, Release } from './filter.js';
import type { HeaderList } from './headers.js';

export type StreamEvent =
  | { readonly kind: 'headers'; readonly headers: HeaderList; readonly endOfStream: boolean }
  | { readonly kind: 'data'; chunk: BodyChunk; readonly endOfStream: boolean }
  | { readonly kind: 'trailers'; readonly trailers: HeaderList };

export interface Stage {
  call(ev: StreamEvent): FilterStatus;
}

interface StageState {
  mode: 'flowing' | 'stopped' | 'buffering' | 'holding';
  /** The event the filter stopped on: forwarded, not re-filtered, on resume. */
  stoppedOn: StreamEvent | undefined;
  buffered: Uint8Array[];
  bufferedEos: boolean;
  held: StreamEvent[];
}

export class Pipeline {
  private readonly states: StageState[];
  private halted = false;

  constructor(
    private readonly stages: readonly Stage[],
    private readonly sink: (ev: StreamEvent) => void,
    /** Checked after every filter call: true when the stream must stop (local reply, reset). */
    private readonly interrupted: () => boolean,
  ) {
    this.states = stages.map(() => ({ mode: 'flowing', stoppedOn: undefined, buffered: [], bufferedEos: false, held: [] }));
  }

  push(ev: StreamEvent): void {
    this.deliver(0, ev);
  }

  halt(): void {
    this.halted = true;
  }

  private deliver(i: number, ev: StreamEvent): void {
    if (this.halted) return;
    if (i === this.stages.length) {
      this.sink(ev);
      return;
    }
    const st = this.states[i]!;
    if (st.mode === 'stopped') {
      st.held.push(ev);
      return;
    }
    if (st.mode === 'buffering' && ev.kind === 'data') {
      st.buffered.push(ev.chunk.data);
      const chunk: BodyChunk = { data: concat(st.buffered) };
      const status = this.stages[i]!.call({ kind: 'data', chunk, endOfStream: ev.endOfStream });
      if (this.check()) return;
      st.buffered = [chunk.data];
      st.bufferedEos = ev.endOfStream;
      if (status === 'continue') this.flushBuffer(i);
      else if (status === 'stop') st.mode = 'stopped';
      return;
    }
    if (st.mode === 'buffering') {
      // Trailers end a buffered body: the filter sees them, then the body goes on.
      const status = this.stages[i]!.call(ev);
      if (this.check()) return;
      if (status === 'continue') {
        this.flushBuffer(i);
        this.deliver(i + 1, ev);
      } else {
        st.mode = 'stopped';
        st.stoppedOn = ev;
      }
      return;
    }
    const status = this.stages[i]!.call(ev);
    if (this.check()) return;
    if (status === 'continue') {
      st.mode = 'flowing';
      this.deliver(i + 1, ev);
    } else if (status === 'held') {
      // The filter keeps what it holds; whatever it handed back may go on now.
      st.mode = 'holding';
      if (ev.kind === 'data' && ev.chunk.data.length > 0) this.deliver(i + 1, { kind: 'data', chunk: ev.chunk, endOfStream: false });
    } else if (status === 'stop-and-buffer' && ev.kind === 'data') {
      st.mode = 'buffering';
      st.buffered = [ev.chunk.data];
      st.bufferedEos = ev.endOfStream;
    } else {
      st.mode = 'stopped';
      st.stoppedOn = ev;
    }
  }

  private flushBuffer(i: number): void {
    const st = this.states[i]!;
    const data = concat(st.buffered);
    const eos = st.bufferedEos;
    st.buffered = [];
    st.bufferedEos = false;
    st.mode = 'flowing';
    if (data.length > 0 || eos) this.deliver(i + 1, { kind: 'data', chunk: { data }, endOfStream: eos });
  }

  /** proxy_continue_stream from stage i's filter. */
  resume(i: number, release?: Release): void {
    const st = this.states[i];
    if (!st || this.halted) return;
    if (st.mode === 'holding') {
      st.mode = 'flowing';
      if (!release) return;
      const trailers = release.trailers;
      if (release.data.length > 0 || (release.endOfStream && !trailers)) {
        this.deliver(i + 1, { kind: 'data', chunk: { data: release.data }, endOfStream: release.endOfStream && !trailers });
      }
      if (trailers) this.deliver(i + 1, { kind: 'trailers', trailers });
      return;
    }
    if (st.mode === 'buffering') {
      this.flushBuffer(i);
      return;
    }
    if (st.mode !== 'stopped') return;
    st.mode = 'flowing';
    const stoppedOn = st.stoppedOn;
    st.stoppedOn = undefined;
    if (st.buffered.length > 0) {
      this.flushBufferKeepingMode(i);
    }
    if (stoppedOn) this.deliver(i + 1, stoppedOn);
    // Bytes the filter saw and released with the resume (its own buffer) go before later events.
    if (release && release.data.length > 0) this.deliver(i + 1, { kind: 'data', chunk: { data: release.data }, endOfStream: false });
    const held = st.held;
    st.held = [];
    for (const ev of held) this.deliver(i, ev);
  }

  private flushBufferKeepingMode(i: number): void {
    const st = this.states[i]!;
    const data = concat(st.buffered);
    const eos = st.bufferedEos;
    st.buffered = [];
    st.bufferedEos = false;
    this.deliver(i + 1, { kind: 'data', chunk: { data }, endOfStream: eos });
  }

  private check(): boolean {
    if (this.interrupted()) {
      this.halted = true;
      return true;
    }
    return false;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}
