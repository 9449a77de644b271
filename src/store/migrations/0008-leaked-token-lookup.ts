/** Adds the indexes that match leaked page tokens against sessions by their current and previous token, not only their first. */
import { Op, type QueryInterface } from 'sequelize';
import type { MigrationFn } from 'umzug';

// A leak report names a token by the hash of its jti: a session's first token is its id_hash (the primary key), a
// rotated session's current and previous ones are these two columns, which until now were only ever read through
// the primary key. Without them, matching a batch of a thousand reports would scan the whole table three times.
//
// Partial (IS NOT NULL): a session that never rotated has neither, and both SQLite (3.8+) and PostgreSQL use such an
// index for `column IN (...)`, which implies the column is not null. The cost: a rotation now changes indexed
// columns, so on PostgreSQL it is no longer a HOT update (0004); a revocation or a touch still is.
const INDEXES = [
  { column: 'chain_token_hash', name: 'allowlist_entries_chain_token_hash' },
  { column: 'chain_previous_hash', name: 'allowlist_entries_chain_previous_hash' },
] as const;

export const up: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  for (const { column, name } of INDEXES) {
    await queryInterface.addIndex('allowlist_entries', [column], { name, where: { [column]: { [Op.ne]: null } } });
  }
};

export const down: MigrationFn<QueryInterface> = async ({ context: queryInterface }) => {
  for (const { name } of [...INDEXES].reverse()) await queryInterface.removeIndex('allowlist_entries', name);
};
