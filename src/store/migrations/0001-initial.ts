/** The first schema: allowlist entries, tombstones, tenants, settings, notes and the audit log. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

// Times are epoch milliseconds in BIGINT: portable, indexable, and free of time-zone conversions.
const epochMs = { type: DataTypes.BIGINT, allowNull: false };
const optionalEpochMs = { type: DataTypes.BIGINT, allowNull: true };

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.createTable('allowlist_entries', {
    id_hash: { type: DataTypes.CHAR(64), primaryKey: true, allowNull: false },
    client_key: { type: DataTypes.STRING(255), allowNull: false },
    account_id: { type: DataTypes.STRING(128), allowNull: false },
    resource: { type: DataTypes.STRING(255), allowNull: false },
    parent: { type: DataTypes.STRING(255), allowNull: true },
    created_at: epochMs,
    expires_at: epochMs,
    last_seen_at: epochMs,
    ip: { type: DataTypes.STRING(64), allowNull: true },
    // User agents have no length limit worth trusting; TEXT keeps PostgreSQL from refusing a long one.
    user_agent: { type: DataTypes.TEXT, allowNull: true },
    revoked_at: optionalEpochMs,
    revoke_reason: { type: DataTypes.STRING(255), allowNull: true },
  });
  await queryInterface.addIndex('allowlist_entries', ['client_key', 'account_id'], { name: 'allowlist_entries_client_account' });
  await queryInterface.addIndex('allowlist_entries', ['client_key', 'resource'], { name: 'allowlist_entries_client_resource' });
  await queryInterface.addIndex('allowlist_entries', ['client_key', 'parent'], { name: 'allowlist_entries_client_parent' });
  await queryInterface.addIndex('allowlist_entries', ['expires_at'], { name: 'allowlist_entries_expires_at' });

  await queryInterface.createTable('tombstones', {
    client_key: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    kind: { type: DataTypes.STRING(16), primaryKey: true, allowNull: false },
    subject: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    removed_at: epochMs,
    removed_event_at: epochMs,
    lifted_at: optionalEpochMs,
    last_event_at: epochMs,
  });

  await queryInterface.createTable('tenants', {
    client_key: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    base_url: { type: DataTypes.STRING(1024), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    updated_at: epochMs,
  });

  await queryInterface.createTable('settings', {
    client_key: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    key: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    value: { type: DataTypes.TEXT, allowNull: false },
  });

  await queryInterface.createTable('notes', {
    id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
    client_key: { type: DataTypes.STRING(255), allowNull: false },
    issue_id: { type: DataTypes.STRING(64), allowNull: false },
    account_id: { type: DataTypes.STRING(128), allowNull: false },
    text: { type: DataTypes.TEXT, allowNull: false },
    created_at: epochMs,
  });
  await queryInterface.addIndex('notes', ['client_key', 'issue_id', 'created_at'], { name: 'notes_client_issue_created' });

  await queryInterface.createTable('audit_log', {
    // SQLite only auto-numbers an INTEGER PRIMARY KEY (already 64-bit there); PostgreSQL gets a BIGSERIAL.
    id: {
      type: queryInterface.sequelize.getDialect() === 'sqlite' ? DataTypes.INTEGER : DataTypes.BIGINT,
      primaryKey: true,
      autoIncrement: true,
      allowNull: false,
    },
    at: epochMs,
    kind: { type: DataTypes.STRING(16), allowNull: false },
    client_key: { type: DataTypes.STRING(255), allowNull: true },
    account_id: { type: DataTypes.STRING(128), allowNull: true },
    actor: { type: DataTypes.STRING(255), allowNull: true },
    reason: { type: DataTypes.STRING(255), allowNull: true },
    resource: { type: DataTypes.STRING(255), allowNull: true },
    count: { type: DataTypes.INTEGER, allowNull: true },
  });
  await queryInterface.addIndex('audit_log', ['client_key', 'at'], { name: 'audit_log_client_at' });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  for (const table of ['audit_log', 'notes', 'settings', 'tenants', 'tombstones', 'allowlist_entries']) {
    await queryInterface.dropTable(table);
  }
};
