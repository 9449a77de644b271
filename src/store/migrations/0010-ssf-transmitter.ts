/** Adds what the SSF transmitter keeps: each site's signal receivers, and the outbox of SETs waiting for them. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

const epochMs = { type: DataTypes.BIGINT, allowNull: false };
const optionalEpochMs = { type: DataTypes.BIGINT, allowNull: true };

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.createTable('ssf_receivers', {
    id: { type: DataTypes.STRING(32), primaryKey: true, allowNull: false },
    client_key: { type: DataTypes.STRING(255), allowNull: false },
    // Bounded, and ASCII once parsed as a URL: the unique index below must hold it.
    endpoint_url: { type: DataTypes.STRING(2048), allowNull: false },
    audience: { type: DataTypes.STRING(512), allowNull: false },
    // A credential of the receiver's, sent as it is with every push.
    authorization_header: { type: DataTypes.TEXT, allowNull: true },
    created_at: epochMs,
    updated_at: epochMs,
  });
  // One receiver per endpoint and site: adding it again replaces it, rather than sending every SET twice.
  await queryInterface.addIndex('ssf_receivers', ['client_key', 'endpoint_url'], { name: 'ssf_receivers_client_endpoint', unique: true });

  await queryInterface.createTable('ssf_outbox', {
    notice_id: { type: DataTypes.STRING(32), primaryKey: true, allowNull: false },
    // Deleting a receiver drops what was still queued for it, in the same statement.
    receiver_id: {
      type: DataTypes.STRING(32),
      primaryKey: true,
      allowNull: false,
      references: { model: 'ssf_receivers', key: 'id' },
      onDelete: 'CASCADE',
    },
    client_key: { type: DataTypes.STRING(255), allowNull: false },
    base_url: { type: DataTypes.STRING(1024), allowNull: true },
    account_id: { type: DataTypes.STRING(128), allowNull: true },
    session_id: { type: DataTypes.STRING(64), allowNull: true },
    actor: { type: DataTypes.STRING(255), allowNull: false },
    reason: { type: DataTypes.STRING(255), allowNull: false },
    event_at: epochMs,
    state: { type: DataTypes.STRING(16), allowNull: false },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    next_attempt_at: epochMs,
    last_attempt_at: optionalEpochMs,
    last_error: { type: DataTypes.TEXT, allowNull: true },
    leased_until: optionalEpochMs,
    lease_id: { type: DataTypes.STRING(32), allowNull: true },
  });
  // The worker's claim: pending rows, soonest due first.
  await queryInterface.addIndex('ssf_outbox', ['state', 'next_attempt_at'], { name: 'ssf_outbox_due' });
  // Deleting a receiver (the cascade), and admins listing a site's SETs.
  await queryInterface.addIndex('ssf_outbox', ['receiver_id'], { name: 'ssf_outbox_receiver' });
  await queryInterface.addIndex('ssf_outbox', ['client_key', 'event_at'], { name: 'ssf_outbox_client_event' });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.dropTable('ssf_outbox');
  await queryInterface.dropTable('ssf_receivers');
};
