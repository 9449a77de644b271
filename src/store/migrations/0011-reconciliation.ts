/** Lets personal data reporting walk a tenant's notes by user, as it walks their entries on (client_key, account_id). */
import type { QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.addIndex('notes', ['client_key', 'account_id'], { name: 'notes_client_account' });
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  await queryInterface.removeIndex('notes', 'notes_client_account');
};
