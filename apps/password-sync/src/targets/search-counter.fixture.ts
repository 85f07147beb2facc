import { Client, type SearchOptions } from 'ldapts';

/** The user searches seen by {@link countSearches}, and how to stop counting. */
export interface SearchCounter {
  /** The filters of the searches under the base, in the order sent. */
  readonly filters: string[];
  /** Puts ldapts's own `search` back. */
  restore(): void;
}

/**
 * Records the filter of every ldapts search under `base`, by every client: the target makes its
 * own clients, so the wrapper sits on the prototype. Specs count the searches a batch saved.
 */
export function countSearches(base: string): SearchCounter {
  const original = Client.prototype.search;
  const filters: string[] = [];
  Client.prototype.search = function (this: Client, searchBase: string | unknown, options?: SearchOptions, ...rest: unknown[]) {
    if (searchBase === base) filters.push(String(options?.filter));
    return (original as (...args: unknown[]) => ReturnType<Client['search']>).call(this, searchBase, options, ...rest);
  } as Client['search'];
  return {
    filters,
    restore: () => {
      Client.prototype.search = original;
    },
  };
}
