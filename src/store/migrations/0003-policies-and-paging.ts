/** Adds tenants' session policies, and the indexes that page through live entries and the audit log and expire old audit records. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

// Not added, because 0001 already has them: listing a user's entries (client_key, account_id) or a resource's
// (client_key, resource), counting live entries over every tenant (expires_at), and isKnownUser's lookups
// (the same entries index and the tombstones primary key).

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.createTable('policies', {
    client_key: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    idle_timeout_seconds: { type: DataTypes.INTEGER, allowNull: false },
    absolute_lifetime_seconds: { type: DataTypes.INTEGER, allowNull: false },
    updated_at: { type: DataTypes.BIGINT, allowNull: false },
  });

  // A tenant's sessions page, newest first; the cursor's id_hash tie-break is rare enough to filter rather than index.
  await queryInterface.addIndex('allowlist_entries', ['client_key', 'created_at'], { name: 'allowlist_entries_client_created' });

  // The audit log pages by id (append order), so each listing the admin page offers walks one index backwards from
  // `before` instead of sorting the tenant's whole history: all records, one kind, one user. A time window is a
  // filter on top; 0001's (client_key, at) still serves a narrow one.
  await queryInterface.addIndex('audit_log', ['client_key', 'id'], { name: 'audit_log_client_id' });
  await queryInterface.addIndex('audit_log', ['client_key', 'kind', 'id'], { name: 'audit_log_client_kind_id' });
  await queryInterface.addIndex('audit_log', ['client_key', 'account_id', 'id'], { name: 'audit_log_client_account_id' });
  // Retention deletes the oldest records over every tenant, tenantless ones included.
  await queryInterface.addIndex('audit_log', ['at'], { name: 'audit_log_at' });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.removeIndex('audit_log', 'audit_log_at');
  await queryInterface.removeIndex('audit_log', 'audit_log_client_account_id');
  await queryInterface.removeIndex('audit_log', 'audit_log_client_kind_id');
  await queryInterface.removeIndex('audit_log', 'audit_log_client_id');
  await queryInterface.removeIndex('allowlist_entries', 'allowlist_entries_client_created');
  await queryInterface.dropTable('policies');
};
