import type { NatsConnection } from '@nats-io/nats-core';

/** What the connected nats-server supports, by version. Debian ships 2.9.10; production runs 2.10–2.12. */
export interface ServerFeatures {
  readonly version: string;
  /** `filter_subjects` (several filters on one consumer): 2.10+. On 2.9 we use one filter or none. */
  readonly multipleConsumerFilters: boolean;
  /** Per-stream `metadata`: 2.10+. */
  readonly streamMetadata: boolean;
}

/** Parses `major.minor.patch` from a server version string; unknown parts count as 0. */
export function parseVersion(version: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return [a, b, c];
}

/** True when `version` is at least `major.minor`. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = parseVersion(version);
  return a > major || (a === major && b >= minor);
}

/** Feature-tests the server this connection is talking to. */
export function serverFeatures(nc: NatsConnection): ServerFeatures {
  const version = nc.info?.version ?? '0.0.0';
  return { version, multipleConsumerFilters: atLeast(version, 2, 10), streamMetadata: atLeast(version, 2, 10) };
}
