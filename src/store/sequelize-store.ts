/** The durable store, SQL over sequelize on SQLite or PostgreSQL, where the app, the CLI and the tests import it from; its parts are in ./sequelize/. */
export { openSequelizeStore, StoreOpenError, withoutPassword, type SequelizeStoreOptions } from './sequelize/open';
export { SequelizeStore, type SequelizeDialect } from './sequelize/store';
