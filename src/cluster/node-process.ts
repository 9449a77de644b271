/** One PanelGuard node as a child process: started from the environment it is given, watched through /readyz, stopped or killed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { PROJECT_ROOT } from '../app/paths';

export interface Readiness {
  status: string;
  node: string;
  store: string;
  bus: string;
  cache: string;
  nodes: number;
}

export interface NodeProcessOptions {
  name: string;
  port: number;
  /** The node's whole environment besides PATH and PORT. */
  env: Record<string, string>;
  /** Where the node's log lines go; kept in memory (last lines only) when not given. */
  onLog?: (name: string, line: string) => void;
}

const KEPT_LOG_LINES = 200;

export class NodeProcess {
  private child: ChildProcess | null = null;
  private readonly recent: string[] = [];

  constructor(private readonly options: NodeProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** The process id while it runs; null otherwise. */
  get pid(): number | null {
    return this.running() ? (this.child?.pid ?? null) : null;
  }

  /** The node's own address, bypassing any load balancer. */
  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** Starts the node and resolves once it answers /readyz with 200. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'launch', 'server.ts')], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.options.env, PORT: String(this.options.port), NODE_NAME: this.name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') this.log(line);
      });
    }
    await this.waitFor((ready) => ready !== null, timeoutMs);
  }

  /** SIGTERM: the node says goodbye on the bus and closes its store. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: the node vanishes without a word, as a crashed machine would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The node's /readyz answer, whatever its status code; null when it does not answer. */
  async readiness(): Promise<Readiness | null> {
    try {
      const response = await fetch(`${this.url}/readyz`);
      return (await response.json()) as Readiness;
    } catch {
      return null;
    }
  }

  /** Polls /readyz (every 50 ms) until `predicate` holds; fails with the node's last log lines otherwise. */
  async waitFor(predicate: (ready: Readiness | null) => boolean, timeoutMs = 10_000): Promise<Readiness | null> {
    const deadline = Date.now() + timeoutMs;
    let last: Readiness | null = null;
    while (Date.now() < deadline) {
      if (!this.running()) throw new Error(`${this.name} exited (${this.child?.exitCode ?? this.child?.signalCode})\n${this.lastLog()}`);
      last = await this.readiness();
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.name} did not reach the expected state within ${timeoutMs} ms; last /readyz: ${JSON.stringify(last)}\n${this.lastLog()}`);
  }

  lastLog(): string {
    return this.recent.join('\n');
  }

  private log(line: string): void {
    this.recent.push(line);
    if (this.recent.length > KEPT_LOG_LINES) this.recent.shift();
    this.options.onLog?.(this.name, line);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === null || !this.running()) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}
