/** The operator CLI run as an operator would: a child process with only the environment it is given. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/app/paths';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `panelguard <args>` from source with `env` (and PATH) only; `node` options go before the script, e.g. a heap cap. */
export function runCli(args: string[], env: Record<string, string>, node: string[] = []): Promise<CliRun> {
  const child = spawn(process.execPath, [...node, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
