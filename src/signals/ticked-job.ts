/** A job a node runs on a timer's ticks: one run at a time, none once stopped, and stopping waits for the run in progress. */

export interface TickedJob {
  /** Starts a run, or joins the one in progress (a slow run is not stacked on by the next tick); nothing once stopped. */
  tick(): Promise<void>;
  /** No run starts after this; resolves once the run in progress, if any, has ended. */
  stop(): Promise<void>;
  /** Whether `stop` was called: a long run checks it between steps, to end early. */
  stopped(): boolean;
}

export function tickedJob(run: () => Promise<void>): TickedJob {
  let running: Promise<void> | null = null;
  let stopped = false;
  return {
    tick() {
      if (stopped) return Promise.resolve();
      running ??= run().finally(() => {
        running = null;
      });
      return running;
    },
    async stop() {
      stopped = true;
      await running?.catch(() => undefined);
    },
    stopped: () => stopped,
  };
}
