/** Adds what theft detection keeps: each session's chain position and bound key, each tenant's theft policy, and signals' details in the audit log. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

// All null until a session first rotates (the chain) or binds a key: every entry written before this migration
// reads as a session that has done neither. No index: each is read and written through the id_hash primary key.
const ENTRY_COLUMNS = {
  chain_seq: { type: DataTypes.INTEGER, allowNull: true },
  chain_token_hash: { type: DataTypes.STRING(64), allowNull: true },
  chain_previous_hash: { type: DataTypes.STRING(64), allowNull: true },
  chain_rotated_at: { type: DataTypes.BIGINT, allowNull: true },
  // As 0001's ip and user_agent, which these mirror for the use that made the current token current.
  chain_ip: { type: DataTypes.STRING(64), allowNull: true },
  chain_user_agent: { type: DataTypes.TEXT, allowNull: true },
  bound_key: { type: DataTypes.STRING(64), allowNull: true },
};

// Defaults rather than nulls, so that a policy set before this migration reads as the defaults the product documents.
const POLICY_COLUMNS = {
  theft_response: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'revoke' },
  agent_change_response: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'report' },
  key_binding: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
};

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  for (const [name, column] of Object.entries(ENTRY_COLUMNS)) await queryInterface.addColumn('allowlist_entries', name, column);
  for (const [name, column] of Object.entries(POLICY_COLUMNS)) await queryInterface.addColumn('policies', name, column);
  // JSON text, null on every record that is not a signal.
  await queryInterface.addColumn('audit_log', 'detail', { type: DataTypes.TEXT, allowNull: true });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  // DROP COLUMN itself (SQLite 3.35+, PostgreSQL) rather than removeColumn, which on SQLite copies the table into a
  // new one and loses its indexes on the way.
  const drop = (table: string, column: string) => queryInterface.sequelize.query(`ALTER TABLE ${table} DROP COLUMN ${column}`);
  await drop('audit_log', 'detail');
  for (const name of Object.keys(POLICY_COLUMNS).reverse()) await drop('policies', name);
  for (const name of Object.keys(ENTRY_COLUMNS).reverse()) await drop('allowlist_entries', name);
};
