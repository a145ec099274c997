// A hand-written filter for the proxy tests (no wasm): it records what the
// sidecar hands it, and can add a header, stop and resume, buffer, or reply
// locally, as its JSON configuration says.
import type { WasmFilterConfig } from '../../src/sidecar/config/model.js';
import type { FilterLoader, FilterWithStats } from '../../src/sidecar/index.js';
import type { BodyChunk, FilterStatus, HttpFilterStream, StreamControl, StreamInfo } from '../../src/sidecar/filter.js';
import type { HeaderList } from '../../src/sidecar/headers.js';

export interface RecordingConfig {
  add_request_header?: [string, string];
  add_response_header?: [string, string];
  stop_request_headers_ms?: number;
  /** Stop at the request headers of this path until the test calls the stream's resume(). */
  hold_path?: string;
  buffer_request_body?: boolean;
  local_reply?: { status: number; body: string };
  upper_case_response?: boolean;
}

export interface StreamRecord {
  events: string[];
  requestChunks: number[];
  responseChunks: number[];
  requestBody: string;
  responseBody: string;
  info: StreamInfo;
  /** route_name / cluster_name as the filter could read them in its request headers callback. */
  routeAtHeaders?: string | undefined;
  clusterAtHeaders?: string | undefined;
  /** Set while a hold_path stream is stopped. */
  resume?: () => void;
}

export class RecordingFilter implements FilterWithStats {
  readonly name: string;
  readonly streams: StreamRecord[] = [];
  closed = false;
  constructor(
    readonly config: WasmFilterConfig,
    private readonly cfg: RecordingConfig,
  ) {
    this.name = config.pluginName;
  }

  newStream(control: StreamControl, info: StreamInfo): HttpFilterStream {
    const rec: StreamRecord = { events: [], requestChunks: [], responseChunks: [], requestBody: '', responseBody: '', info };
    this.streams.push(rec);
    const cfg = this.cfg;
    return {
      requestHeaders(h: HeaderList, eos: boolean): FilterStatus {
        rec.events.push(`request_headers eos=${eos}`);
        rec.routeAtHeaders = info.routeName;
        rec.clusterAtHeaders = info.clusterName;
        if (cfg.add_request_header) h.push(cfg.add_request_header);
        if (cfg.local_reply) {
          control.sendLocalReply({ status: cfg.local_reply.status, body: Buffer.from(cfg.local_reply.body), headers: [['x-local', '1']], details: 'test' });
          return 'stop';
        }
        if (cfg.hold_path !== undefined && h.find(([k]) => k === ':path')?.[1] === cfg.hold_path) {
          rec.resume = () => control.resume();
          return 'stop';
        }
        if (cfg.stop_request_headers_ms !== undefined) {
          setTimeout(() => control.resume(), cfg.stop_request_headers_ms);
          return 'stop';
        }
        return 'continue';
      },
      requestBody(chunk: BodyChunk, eos: boolean): FilterStatus {
        rec.events.push(`request_body ${chunk.data.length} eos=${eos}`);
        rec.requestChunks.push(chunk.data.length);
        if (cfg.buffer_request_body) {
          if (!eos) return 'stop-and-buffer';
          rec.requestBody = Buffer.from(chunk.data).toString();
          return 'continue';
        }
        rec.requestBody += Buffer.from(chunk.data).toString();
        return 'continue';
      },
      requestTrailers(): FilterStatus {
        rec.events.push('request_trailers');
        return 'continue';
      },
      responseHeaders(h: HeaderList, eos: boolean): FilterStatus {
        rec.events.push(`response_headers ${h.find(([k]) => k === ':status')?.[1]} eos=${eos}`);
        if (cfg.add_response_header) h.push(cfg.add_response_header);
        return 'continue';
      },
      responseBody(chunk: BodyChunk, eos: boolean): FilterStatus {
        rec.events.push(`response_body ${chunk.data.length} eos=${eos}`);
        rec.responseChunks.push(chunk.data.length);
        rec.responseBody += Buffer.from(chunk.data).toString();
        if (cfg.upper_case_response) chunk.data = Buffer.from(Buffer.from(chunk.data).toString().toUpperCase());
        return 'continue';
      },
      responseTrailers(): FilterStatus {
        rec.events.push('response_trailers');
        return 'continue';
      },
      log() {
        rec.events.push('log');
      },
      done() {
        rec.events.push('done');
      },
    };
  }

  close(): void {
    this.closed = true;
  }
}

/** A loader that builds RecordingFilters and remembers them by plugin name. */
export function recordingLoader(): { loader: FilterLoader; filters: Map<string, RecordingFilter> } {
  const filters = new Map<string, RecordingFilter>();
  return {
    filters,
    loader: async (config) => {
      const f = new RecordingFilter(config, config.configuration ? (JSON.parse(config.configuration) as RecordingConfig) : {});
      filters.set(config.pluginName, f);
      return f;
    },
  };
}
