import { randomBytes } from 'node:crypto';
import { freePort } from './free-port.js';
import { startNatsServer, type NatsServerHandle } from './nats-server.harness.js';

/** One server of a {@link NatsClusterHandle}; `name` is its `server_name` (what stream info reports as leader). */
export interface NatsClusterNode extends NatsServerHandle {
  readonly name: string;
}

/** A local JetStream cluster of real `nats-server` processes. */
export interface NatsClusterHandle {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated: what `NATS_URL` takes. */
  readonly urls: string;
  /** The node with this server name (e.g. a stream's `cluster.leader`). */
  node(name: string): NatsClusterNode;
  /** Stops every node and removes their stores. */
  dispose(): Promise<void>;
}

/**
 * Starts `size` (default 3) `nats-server` processes on loopback, routed to each other as one
 * JetStream cluster (`--cluster_name`, `--routes`, a unique `--name` each), as production runs a
 * replicated stream. Every node keeps its ports and store across `kill()` / `restart()`, so a
 * killed node rejoins as itself. Works with nats-server 2.9.10 and later.
 * @throws HarnessError as {@link startNatsServer} does.
 */
export async function startNatsCluster(options: { readonly size?: number } = {}): Promise<NatsClusterHandle> {
  const size = options.size ?? 3;
  const clusterName = `idm-${randomBytes(3).toString('hex')}`;
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  // All at once: a clustered JetStream server is only healthy once a meta leader is elected, which needs a quorum.
  const started = await Promise.allSettled(
    routePorts.map(async (routePort, i) => {
      const name = `${clusterName}-n${i + 1}`;
      const routes = routePorts.filter((p) => p !== routePort).map((p) => `nats://127.0.0.1:${p}`);
      const server = await startNatsServer({
        jetstream: true,
        startTimeoutMs: 30_000,
        args: ['--name', name, '--cluster_name', clusterName, '--cluster', `nats://127.0.0.1:${routePort}`, '--routes', routes.join(',')],
      });
      return Object.assign(server, { name });
    }),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw failed.reason;
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    node(name) {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no cluster node named ${name}`);
      return found;
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
}
