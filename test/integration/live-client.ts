/** A page's live channel as tests and benchmarks hold it: one `GET /api/live` stream, read event by event. */

export interface LiveEvent {
  event: string;
  data: { code?: string; message?: string };
  /** performance.now() when it arrived. */
  at: number;
}

export interface Channel {
  status: number;
  /** The successor the opening answer offered (`Page-Token-Next`), which the page then calls with. */
  offered: string | null;
  /** The refusal's body when the channel was not opened. */
  error: { code: string; message: string } | null;
  events: LiveEvent[];
  /** Resolves with the next event named `name` (or one seen already), or null after `timeoutMs`. */
  next(name: string, timeoutMs: number): Promise<LiveEvent | null>;
  /** Resolves when the server ended the stream. */
  closed: Promise<void>;
  close(): void;
}

export async function openChannel(baseUrl: string, token: string | null, resource: string): Promise<Channel> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}/api/live?resource=${encodeURIComponent(resource)}`, { headers, signal: abort.signal });
  const events: LiveEvent[] = [];
  const waiting = new Set<() => void>();
  const channel: Channel = {
    status: response.status,
    offered: response.headers.get('page-token-next'),
    error: null,
    events,
    async next(name, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = events.find((e) => e.event === name);
        if (found !== undefined) return found;
        const left = deadline - performance.now();
        if (left <= 0) return null;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    closed: Promise.resolve(),
    close: () => abort.abort(),
  };
  if (response.status !== 200 || response.body === null) {
    channel.error = ((await response.json()) as { error: { code: string; message: string } }).error;
    return channel;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  channel.closed = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name === undefined) continue;
          events.push({ event: name, data: data === undefined ? {} : JSON.parse(data), at: performance.now() });
          for (const wake of waiting) wake();
          waiting.clear();
        }
      }
    } catch {
      // Aborted by close().
    } finally {
      for (const wake of waiting) wake();
    }
  })();
  return channel;
}
