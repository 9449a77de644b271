import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../../src/app/paths';
import { openSequelizeStore, StoreOpenError, withoutPassword } from '../../../src/store/sequelize-store';
import { rejectionOf } from './fixtures';

// Port 1 on the loopback: nothing listens there, so the connection is refused at once.
const REFUSED = 'postgres://panelguard:hunter2-secret@127.0.0.1:1/panelguard';

describe('opening the store', () => {
  it('names DATABASE_URL, without its password, when nothing accepts connections there', async () => {
    const error = await openSequelizeStore(REFUSED).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(StoreOpenError);
    expect((error as StoreOpenError).code).to.equal('store_unreachable');
    expect((error as StoreOpenError).message).to.equal(
      'cannot open the store at DATABASE_URL postgres://panelguard:***@127.0.0.1:1/panelguard: nothing accepts connections there (ECONNREFUSED)',
    );
  });

  it('prints a URL as given when it holds no password', () => {
    expect(withoutPassword('postgres://postgres@127.0.0.1:5432/test')).to.equal('postgres://postgres@127.0.0.1:5432/test');
    expect(withoutPassword('sqlite:data/x.sqlite')).to.equal('sqlite:data/x.sqlite');
  });

  it('stops the server with one line naming DATABASE_URL and never its password', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'panelguard-open-'));
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/launch/server.ts'], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, PORT: '0', DATA_DIR: dir, DATABASE_URL: REFUSED, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).to.equal(1);
      expect(result.stderr.trim()).to.equal(
        'panelguard: failed to start: cannot open the store at DATABASE_URL postgres://panelguard:***@127.0.0.1:1/panelguard: nothing accepts connections there (ECONNREFUSED)',
      );
      expect(result.stdout + result.stderr).not.to.include('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openSequelizeStore', () => {
  it('refuses a URL that is neither sqlite: nor postgres://, without echoing it', async () => {
    const err = await rejectionOf(openSequelizeStore('mysql://user:secret@localhost/db'));
    expect(err).to.be.instanceOf(Error);
    expect(String(err)).not.to.contain('secret');
  });

  it('refuses a sqlite: URL without a path', async () => {
    expect(await rejectionOf(openSequelizeStore('sqlite:'))).to.be.instanceOf(Error);
  });

  it('opens a SQLite store that says so and refuses to notify, which needs PostgreSQL', async () => {
    const store = await openSequelizeStore('sqlite::memory:');
    try {
      expect(store.dialect).to.equal('sqlite');
      const err = await rejectionOf(store.notify('panelguard', 'hello'));
      expect(err).to.be.instanceOf(Error);
      expect(String(err)).to.contain('PostgreSQL');
    } finally {
      await store.close();
    }
  });
});
