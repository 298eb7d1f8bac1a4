/**
 * Looks into a KMS — the fake or a real one — through its own JSON-RPC API, the way an operator
 * would: the pipelines whose name starts with a prefix, and the types of the elements in them.
 * Used by the integration suite to assert that nothing leaked, unchanged against a real KMS.
 */
import { WebSocket } from 'ws';

interface RpcAnswer {
  result?: { value?: unknown; sessionId?: string };
  error?: { code: number; message: string };
}

/** The class of a KMS object from its id (`…_kurento.WebRtcEndpoint` → `WebRtcEndpoint`). */
function typeOf(id: string): string {
  return /_kurento\.([A-Za-z]+)$/.exec(id)?.[1] ?? 'unknown';
}

/** Hub classes (module-core Hub and its subclasses in module-elements). */
const HUBS = new Set(['Composite', 'AlphaBlending', 'Dispatcher', 'DispatcherOneToMany', 'Mixer']);

function sortedKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export class KmsInspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (a: RpcAnswer) => void>();
  #nextId = 1;
  #sessionId: string | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (d: Buffer) => {
      const msg = JSON.parse(d.toString()) as RpcAnswer & { id?: number };
      if (typeof msg.id === 'number') {
        this.#pending.get(msg.id)?.(msg);
        this.#pending.delete(msg.id);
      }
    });
  }

  static async connect(uri: string): Promise<KmsInspector> {
    const ws = new WebSocket(uri);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new KmsInspector(ws);
  }

  #call(method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (a) => {
        if (a.result?.sessionId) this.#sessionId = a.result.sessionId;
        if (a.error) reject(new Error(`${a.error.code} ${a.error.message}`));
        else resolve(a.result?.value);
      });
      const withSession = this.#sessionId ? { ...params, sessionId: this.#sessionId } : params;
      this.#ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: withSession }));
    });
  }

  #invoke(object: string, operation: string): Promise<unknown> {
    return this.#call('invoke', { object, operation, operationParams: {} });
  }

  /** Ids of the pipelines whose name starts with `prefix` (e.g. `theia/<instance>/`). */
  async pipelines(prefix: string): Promise<string[]> {
    const all = (await this.#invoke('manager_ServerManager', 'getPipelines')) as string[];
    const mine: string[] = [];
    for (const id of all) {
      const name = (await this.#invoke(id, 'getName').catch(() => '')) as string;
      if (name.startsWith(prefix)) mine.push(id);
    }
    return mine;
  }

  /** Every object under `id`, depth first (a hub's ports are children of the hub, not of the pipeline). */
  async #descendants(id: string): Promise<string[]> {
    const children = (await this.#invoke(id, 'getChildren')) as string[];
    const all: string[] = [];
    for (const c of children) all.push(c, ...(await this.#descendants(c)));
    return all;
  }

  /** Element type counts (from the id suffix, e.g. `WebRtcEndpoint`) in the pipelines named `prefix…`. */
  async elements(prefix: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const p of await this.pipelines(prefix)) {
      counts.MediaPipeline = (counts.MediaPipeline ?? 0) + 1;
      for (const c of await this.#descendants(p)) {
        const type = typeOf(c);
        counts[type] = (counts[type] ?? 0) + 1;
      }
    }
    return counts;
  }

  /**
   * The media graph of the pipelines named `prefix…`, as KMS reports it (`getSinkConnections`,
   * VIDEO only: KMS lists one connection per media type): element type counts, and each connection
   * as `SourceType→SinkType` with how many there are, sorted, e.g.
   * `{ 'HubPort→WebRtcEndpoint': 1, 'WebRtcEndpoint→HubPort': 2 }`. With `ids`, connections are
   * given by element id in `edges` too (for following one element).
   */
  async graph(prefix: string): Promise<{
    elements: Record<string, number>;
    connections: Record<string, number>;
    edges: Array<[string, string]>;
  }> {
    const elements: Record<string, number> = {};
    const connections: Record<string, number> = {};
    const edges: Array<[string, string]> = [];
    for (const p of await this.pipelines(prefix)) {
      for (const id of await this.#descendants(p)) {
        const type = typeOf(id);
        elements[type] = (elements[type] ?? 0) + 1;
        // hubs are MediaObjects, not MediaElements (kmd core: Hub extends MediaObject): their ports connect
        if (HUBS.has(type)) continue;
        const sinks = (await this.#call('invoke', {
          object: id,
          operation: 'getSinkConnections',
          operationParams: { mediaType: 'VIDEO' },
        })) as Array<{ source: string; sink: string }>;
        for (const c of sinks) {
          const edge = `${typeOf(c.source)}→${typeOf(c.sink)}`;
          connections[edge] = (connections[edge] ?? 0) + 1;
          edges.push([c.source, c.sink]);
        }
      }
    }
    return { elements, connections: sortedKeys(connections), edges };
  }

  close(): void {
    this.#ws.close();
  }
}
