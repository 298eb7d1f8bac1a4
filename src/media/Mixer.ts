/**
 * One mix of the stage: a Composite (layout `grid`) or an AlphaBlending (layout `pip`: the host's
 * port is the master and fills the frame, each guest sits in a window over it), with one input
 * HubPort per stage feed and one output HubPort that is the program while co-hosting.
 *
 * A Mixer is made for one set of feeds and one layout; a change of either makes a new Mixer, the
 * program switches to it, and the old one is closed (doc/media-graph.md).
 */
import type { Layout } from '../protocol/index.js';
import { AlphaBlending } from './elements/AlphaBlending.js';
import { Composite } from './elements/Composite.js';
import type { Hub } from './elements/Hub.js';
import type { HubPort } from './elements/HubPort.js';
import type { KmsConnection } from './KmsConnection.js';
import type { KmsObject } from './KmsObject.js';
import { gridSize, pipWindow, type MixLimits } from './mixLayout.js';
import type { ProgramSwitch } from './ProgramSwitch.js';

/** A feed to mix: its id and the switch that connects its output to sinks. */
export interface MixerInput {
  feedId: string;
  out: ProgramSwitch;
}

export class Mixer {
  readonly layout: Layout;
  /** The mixed feeds, the host first. */
  readonly feedIds: readonly string[];
  readonly #hub: Hub;
  readonly #inputs: ReadonlyArray<{ port: HubPort; out: ProgramSwitch }>;
  readonly #output: HubPort;
  #closed = false;

  private constructor(
    layout: Layout,
    hub: Hub,
    inputs: ReadonlyArray<{ feedId: string; port: HubPort; out: ProgramSwitch }>,
    output: HubPort,
  ) {
    this.layout = layout;
    this.feedIds = inputs.map((i) => i.feedId);
    this.#hub = hub;
    this.#inputs = inputs;
    this.#output = output;
  }

  /** `layout|feed1,feed2,…`: two mixers with the same key mix the same way. */
  static key(layout: Layout, feedIds: readonly string[]): string {
    return `${layout}|${feedIds.join(',')}`;
  }

  /**
   * Creates the hub, its ports, places them (pip), and connects every input feed to its port.
   * @param inputs the host first; at least two
   * @throws RangeError for fewer than two inputs; MediaError, MediaUnavailableError (everything
   *   created so far is released)
   */
  static async create(
    kms: KmsConnection,
    pipeline: KmsObject,
    layout: Layout,
    inputs: readonly MixerInput[],
    limits: MixLimits,
  ): Promise<Mixer> {
    if (inputs.length < 2) throw new RangeError('a mix needs at least two feeds');
    const hub =
      layout === 'grid'
        ? await Composite.create(kms, pipeline, gridSize(inputs.length, limits))
        : await AlphaBlending.create(kms, pipeline);
    const ports: Array<{ feedId: string; port: HubPort; out: ProgramSwitch }> = [];
    let output: HubPort | undefined;
    try {
      for (const input of inputs) ports.push({ ...input, port: await hub.createPort() });
      output = await hub.createPort();
      if (hub instanceof AlphaBlending) {
        await hub.setMaster(ports[0]!.port, 1);
        for (const [i, { port }] of ports.slice(1).entries()) await hub.setPortProperties(port, pipWindow(i));
      }
      await Promise.all(ports.map(({ port, out }) => out.addSink(port)));
      return new Mixer(layout, hub, ports, output);
    } catch (err) {
      for (const { port, out } of ports) {
        out.removeSink(port);
        port.release();
      }
      output?.release();
      hub.release();
      throw err;
    }
  }

  /** The mixed picture and sound: the program while co-hosting. */
  get output(): HubPort {
    return this.#output;
  }

  /** The hub, for docs and tests. */
  get hub(): Hub {
    return this.#hub;
  }

  /**
   * Takes the input ports off their feeds' switches and releases ports and hub, unless `release`
   * is false (the pipeline is being released with everything in it). Idempotent.
   */
  close(release = true): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { port, out } of this.#inputs) out.removeSink(port);
    if (!release) return;
    for (const { port } of this.#inputs) port.release();
    this.#output.release();
    this.#hub.release();
  }
}
