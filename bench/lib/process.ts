/** Bench work in another process: a TypeScript module forked under tsx, driven by request/answer messages over IPC. */
import { fork, type ChildProcess } from 'node:child_process';

interface Envelope {
  id: number;
  body: unknown;
}

interface Answer {
  id: number;
  ok: boolean;
  body?: unknown;
  error?: string;
}

export interface Worker {
  readonly pid: number;
  /** Sends one request and resolves with the worker's answer; rejects with the worker's error or its exit. */
  ask<T>(body: unknown): Promise<T>;
  /** Ends the worker: SIGTERM, then SIGKILL if it has not exited within two seconds. */
  close(): Promise<void>;
}

/** Forks `modulePath` (a .ts file that calls `serveRequests`) with the given extra environment and node flags (`--cpu-prof`...). */
export function startWorker(modulePath: string, env: Record<string, string> = {}, nodeFlags: string[] = []): Worker {
  const child: ChildProcess = fork(modulePath, [], {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  child.on('message', (message: Answer) => {
    const pending = waiting.get(message.id);
    if (pending === undefined) return;
    waiting.delete(message.id);
    if (message.ok) pending.resolve(message.body);
    else pending.reject(new Error(message.error ?? 'worker failed'));
  });
  child.on('exit', (code, signal) => failAll(new Error(`worker ${modulePath} exited (${signal ?? code})`)));
  return {
    get pid() {
      return child.pid ?? -1;
    },
    ask<T>(body: unknown) {
      return new Promise<T>((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, body } satisfies Envelope);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In the worker: answers each request with `handle`, one at a time, in arrival order. */
export function serveRequests(handle: (body: never) => Promise<unknown>): void {
  let queue = Promise.resolve();
  process.on('message', (message: Envelope) => {
    queue = queue.then(async () => {
      let answer: Answer;
      try {
        answer = { id: message.id, ok: true, body: await handle(message.body as never) };
      } catch (error) {
        answer = { id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
      }
      process.send?.(answer);
    });
  });
  // The parent's exit closes the channel: nothing is left running behind it.
  process.on('disconnect', () => process.exit(0));
}
