/** The app's own data behind the guard: notes on an issue, per tenant. */
import type { Clock, EpochMs } from '../allowlist/types';
import { randomId } from '../tokens/random';

/** A user's note on an issue. */
export interface Note {
  id: string;
  clientKey: string;
  issueId: string;
  accountId: string;
  text: string;
  createdAt: EpochMs;
}

/** Where notes are kept: listed per issue, oldest first, and added one at a time. */
export interface NoteStore {
  listNotes(clientKey: string, issueId: string): Promise<Note[]>;
  addNote(note: Note): Promise<void>;
}

export const NOTE_MAX_LENGTH = 10_000;

export interface Notes {
  list(clientKey: string, issueId: string): Promise<Note[]>;
  add(clientKey: string, issueId: string, accountId: string, text: string): Promise<Note>;
}

export function createNotes(store: NoteStore, clock: Clock): Notes {
  return {
    list: (clientKey, issueId) => store.listNotes(clientKey, issueId),
    async add(clientKey, issueId, accountId, text) {
      const note: Note = { id: randomId(), clientKey, issueId, accountId, text, createdAt: clock.now() };
      await store.addNote(note);
      return note;
    },
  };
}
