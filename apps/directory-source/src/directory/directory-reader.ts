import type { RawEntry } from '../changes/source-entry.js';
import type { ServerState } from '../changes/poll-plan.js';

/** Entries arrive a page at a time, so a 100 000-user scan never holds raw LDAP results at once. */
export type PageHandler = (entries: readonly RawEntry[]) => void | Promise<void>;

/** The change query of an incremental poll. */
export type ChangeQuery =
  | { readonly dialect: 'openldap'; readonly modifiedSince: string | null }
  | { readonly dialect: 'active-directory'; readonly usnAbove: string };

/** Where an entry that left the scope went. */
export type Whereabouts = 'elsewhere' | 'gone';

/** One poll's session with the directory: bound once, closed at the end of the poll. */
export interface DirectorySession {
  /** The root DSE's facts (dialect resolved, AD DC identity and USN). */
  readonly server: ServerState;
  /** Every user in scope (base DN + user filter), with paged results. */
  scanAll(onPage: PageHandler): Promise<void>;
  /** Users in scope changed since the query's bound. */
  changedSince(query: ChangeQuery, onPage: PageHandler): Promise<void>;
  /** AD only: entry ids of users deleted since the USN (Show Deleted control); [] elsewhere. */
  deletedSince(usnAbove: string): Promise<string[]>;
  /** Is the entry with this stable id still in the directory, outside our scope, or gone? */
  locate(entryId: string): Promise<Whereabouts>;
  close(): Promise<void>;
}

/** The directory port: opens a bound session. Tests may swap it; production uses LDAP. */
export abstract class DirectoryReader {
  /**
   * Connects and binds.
   * @throws DirectoryUnavailableError (down, refused, timed out) or DirectoryBindError (credentials refused).
   */
  abstract open(): Promise<DirectorySession>;
  /** LDAP requests sent so far (binds, searches, pages): shows a poll's cost does not grow with the directory. */
  abstract requestCount(): number;
}

/** The directory could not be reached or answered with an error; the poll is retried next interval. */
export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
  readonly code = 'IDM_SOURCE_DIRECTORY_UNAVAILABLE';
}

/** The directory refused the source's credentials. Retried next interval too: an operator may fix the account. */
export class DirectoryBindError extends Error {
  override readonly name = 'DirectoryBindError';
  readonly code = 'IDM_SOURCE_BIND_REFUSED';
}
