/** Adds the Shared Signals streams: which transmitters each site takes Security Event Tokens from. */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.createTable('ssf_streams', {
    id: { type: DataTypes.STRING(32), primaryKey: true, allowNull: false },
    client_key: { type: DataTypes.STRING(255), allowNull: false },
    issuer: { type: DataTypes.STRING(255), allowNull: false },
    audience: { type: DataTypes.STRING(255), allowNull: false },
    subjects: { type: DataTypes.STRING(16), allowNull: false },
    created_at: { type: DataTypes.BIGINT, allowNull: false },
    verified_at: { type: DataTypes.BIGINT, allowNull: true },
  });
  // A SET finds its stream by issuer and audience, so one pair names one stream (and one site), over all sites.
  await queryInterface.addIndex('ssf_streams', ['issuer', 'audience'], { name: 'ssf_streams_issuer_audience', unique: true });
  await queryInterface.addIndex('ssf_streams', ['client_key', 'created_at'], { name: 'ssf_streams_client_created' });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.dropTable('ssf_streams');
};
