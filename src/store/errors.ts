/** Failures a store raises on its own, apart from the database driver's errors. */

/** Raised by every method of a store after `close()`; the core maps it to `store_unavailable` like any other rejection. */
export class StoreClosedError extends Error {
  readonly code = 'store_closed';

  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}

/** Raised when a row with the same primary key already exists (an id hash or note id seen twice means a bug upstream). */
export class DuplicateKeyError extends Error {
  readonly code = 'duplicate_key';

  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'DuplicateKeyError';
  }
}
