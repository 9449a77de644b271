/** Records, for each revocation in the audit log, how many cluster nodes confirmed it out of how many were expected to. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

// No index is added: 0001 already serves check (primary key id_hash), revocation by user, resource and
// parent (client_key with account_id, resource, parent) and the expiry sweep (expires_at).

// Both null for every record that is not a revocation, and for revocations recorded before this migration.
const nodeCount = { type: DataTypes.INTEGER, allowNull: true };

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.addColumn('audit_log', 'confirmed', nodeCount);
  await queryInterface.addColumn('audit_log', 'expected', nodeCount);
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.removeColumn('audit_log', 'expected');
  await queryInterface.removeColumn('audit_log', 'confirmed');
};
