import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait-for';

export interface SseMessage {
  id: string | undefined;
  data: any;
}

/** The app's base URL, for clients that need a real socket (SSE, a browser). */
export function baseUrl(app: INestApplication): string {
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

/** A Server-Sent Events client over fetch: collects every event the stream sends until closed. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  private constructor(
    private readonly abort: AbortController,
    readonly status: number,
    readonly contentType: string | null,
  ) {}

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const client = new SseClient(abort, res.status, res.headers.get('content-type'));
    if (res.body) void client.read(res.body);
    return client;
  }

  /** Waits for the first event whose data matches. */
  next(what: string, match: (data: any) => boolean, timeoutMs = 20_000): Promise<SseMessage> {
    return waitFor(what, () => this.messages.find((m) => match(m.data)), { timeoutMs });
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = frame.split('\n');
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!data) continue; // retry: and comment frames
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
          this.messages.push({ id, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted by close()
    }
  }
}
