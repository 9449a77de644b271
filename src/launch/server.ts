/** Starts PanelGuard from the environment; a configuration mistake stops it with one line per problem. */
import { startApp } from '../app/app';
import { ConfigError, loadConfig, type Config } from '../app/config';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`panelguard: configuration error: ${problem}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await startApp(config);
  process.on('unhandledRejection', (reason) => app.logger.error({ err: reason }, 'unhandled rejection'));
  app.logger.info({ baseUrl: app.baseUrl, port: app.port, database: config.databaseUrl.split(':')[0] }, 'PanelGuard is serving');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'stopping');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`panelguard: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
