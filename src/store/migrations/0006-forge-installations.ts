/** Adds the links from Forge installations to the Connect tenants they adopted ("Connect on Forge"). */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.createTable('forge_installations', {
    installation_id: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    client_key: { type: DataTypes.STRING(255), allowNull: false },
    linked_at: { type: DataTypes.BIGINT, allowNull: false },
  });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.dropTable('forge_installations');
};
