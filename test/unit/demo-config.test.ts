import path from 'node:path';
import { expect } from 'chai';
import { cliCommand, DEMO_DATABASE_URL, demoConfig, demoStoreFile } from '../../src/launch/demo-config';

const OPERATOR = 'panelguard-demo-site:0123456789abcdef0123456789abcdef';
const HOSTS = { keysUrl: 'http://127.0.0.1:3100/keys', reportAccountsUrl: 'http://127.0.0.1:3100/app/report-accounts' };

describe('the demo configuration', () => {
  it('keeps sessions in a SQLite file by default, so the operator CLI can open the same site', () => {
    const config = demoConfig({}, HOSTS, OPERATOR);
    expect(config.databaseUrl).to.equal('sqlite:data/demo/demo.sqlite');
    expect(config.databaseUrl).to.equal(DEMO_DATABASE_URL);
  });

  it('names its own file as the one to delete at each start, so no tombstone outlives the simulated site', () => {
    const config = demoConfig({}, HOSTS, OPERATOR);
    expect(demoStoreFile(config)).to.equal(path.resolve('data/demo/demo.sqlite'));
  });

  it('never deletes a store that DATABASE_URL chose', () => {
    const config = demoConfig({ DATABASE_URL: 'sqlite:data/demo/mine.sqlite' }, HOSTS, OPERATOR);
    expect(config.databaseUrl).to.equal('sqlite:data/demo/mine.sqlite');
    expect(demoStoreFile(config)).to.equal(null);
  });

  it('prints the exact command that lists the demo site\'s sessions with the CLI', () => {
    const config = demoConfig({}, HOSTS, OPERATOR);
    expect(cliCommand(config, 'panelguard-demo-site')).to.equal(
      'DATABASE_URL=sqlite:data/demo/demo.sqlite npm run cli -- sessions list --tenant panelguard-demo-site',
    );
  });

  it('points the Forge door at the Forge simulator only in Forge mode', () => {
    expect(demoConfig({}, HOSTS, OPERATOR).forgeAppId).to.equal(null);
    const forge = demoConfig({}, { ...HOSTS, forge: { appId: 'ari:cloud:ecosystem::app/0b3d9c1e-6f1a-4c2e-9d7b-2a5e8f4c1d30', jwksUrl: 'http://127.0.0.1:3101/jwks' } }, OPERATOR);
    expect(forge.forgeAppId).to.equal('ari:cloud:ecosystem::app/0b3d9c1e-6f1a-4c2e-9d7b-2a5e8f4c1d30');
    expect(forge.forgeJwksUrl).to.equal('http://127.0.0.1:3101/jwks');
  });
});
