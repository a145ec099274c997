// The ingest benches' sender: one keep-alive HTTP/1.1 connection per request in flight,
// each request written as its head and the prebuilt body bytes in one writev, each
// answer read with only the parsing the collector's answers need (status line,
// content-length, body). node:http's client cost this process 6-15 µs of CPU per
// record (BENCHMARKS.md, sessions 10 and 11), on the two cores the collector uses:
// a load generator should take as little of them as it can.
import { connect, type Socket } from 'node:net';

export interface Answer {
  status: number;
  text: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');

export class RawConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (a: Answer) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('the collector closed the connection')));
  }

  static open(url: URL): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket, url.host));
      });
      socket.once('error', reject);
    });
  }

  /** POSTs `body` (JSON) to `path` and waits for the answer; one request at a time per connection. */
  post(path: string, body: Buffer): Promise<Answer> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.waiting) return Promise.reject(new Error('RawConnection: one request at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      const head = `POST ${path} HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
      this.socket.cork();
      this.socket.write(head);
      this.socket.write(body);
      this.socket.uncork();
    });
  }

  close(): void {
    this.failed ??= new Error('closed');
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd === -1) return;
    const head = this.buffered.subarray(0, headEnd).toString('latin1');
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!status || !length || /\r\ntransfer-encoding:/i.test(head)) {
      this.fail(new Error(`RawConnection: an answer this client does not read: ${head.slice(0, 200)}`));
      return;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (this.buffered.length < bodyEnd) return;
    const text = this.buffered.subarray(bodyStart, bodyEnd).toString('utf8');
    if (this.buffered.length > bodyEnd) {
      this.fail(new Error('RawConnection: bytes after the answer, with no request waiting'));
      return;
    }
    this.buffered = Buffer.alloc(0);
    const w = this.waiting;
    this.waiting = null;
    w?.resolve({ status: Number(status[1]), text });
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }
}
