/** Adds the replay ledger: lifecycle JWTs and webhook deliveries accepted once, and the newest lifecycle call per site. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.createTable('replay_ledger', {
    kind: { type: DataTypes.STRING(32), primaryKey: true, allowNull: false },
    // A SHA-256 in hex for credentials, a clientKey for marks: never a credential itself.
    key: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    at: { type: DataTypes.BIGINT, allowNull: false },
    expires_at: { type: DataTypes.BIGINT, allowNull: false },
  });
  // The sweep deletes the oldest expired claims first.
  await queryInterface.addIndex('replay_ledger', ['expires_at'], { name: 'replay_ledger_expires' });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.removeIndex('replay_ledger', 'replay_ledger_expires');
  await queryInterface.dropTable('replay_ledger');
};
