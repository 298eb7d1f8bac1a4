/**
 * UDP ports on which egress ffmpegs receive RTP from KMS, taken from a configured range.
 *
 * Each allocation is an even RTP port and the odd RTCP port after it (RFC 3550 §11), per media
 * (video and audio: two pairs per ffmpeg). A pair is handed out only if both ports can be bound
 * right now (a UDP socket is bound on all interfaces, then closed) and no other lease of this pool
 * holds it. A port taken by another program between the check and ffmpeg's bind makes that ffmpeg
 * fail at start-up; its supervisor then retries (the caller may also allocate anew).
 *
 * Keep the range apart from KMS's own RTP range (`kms-config/BaseRtpEndpoint.conf.ini`
 * `minPort`/`maxPort`): with host networking both live on one host.
 */
import { createSocket } from 'node:dgram';
import { MediaError } from '../errors.js';

/** An inclusive UDP port range, e.g. `{ min: 40000, max: 40999 }`. */
export interface RtpPortRange {
  min: number;
  max: number;
}

/** Ports held for one egress ffmpeg; `release()` gives them back (idempotent). */
export interface RtpPortLease {
  /** Even RTP ports, one per requested pair; RTCP is each + 1. */
  readonly ports: readonly number[];
  release(): void;
}

/** True if `port` can be bound for UDP on all IPv4 interfaces right now. */
export function isUdpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: '0.0.0.0', exclusive: true }, () => {
      socket.close(() => resolve(true));
    });
  });
}

export class RtpPortPool {
  readonly #min: number;
  readonly #max: number;
  readonly #held = new Set<number>();
  #cursor: number;

  /** Throws `TypeError` unless 1024 <= min < max <= 65535 with room for at least one pair. */
  constructor(range: RtpPortRange) {
    const min = range.min % 2 === 0 ? range.min : range.min + 1;
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || min < 1024 || range.max > 65535) {
      throw new TypeError(
        `RTP port range must be integers within 1024..65535 (got ${range.min}..${range.max})`,
      );
    }
    if (range.max < min + 1)
      throw new TypeError(`RTP port range ${range.min}..${range.max} has no even/odd pair`);
    this.#min = min;
    this.#max = range.max;
    this.#cursor = min;
  }

  /** Ports currently leased (RTP ports only). */
  get held(): ReadonlySet<number> {
    return this.#held;
  }

  /**
   * Leases `pairs` RTP/RTCP port pairs (default 2: video and audio). Throws `MediaError` when the
   * range has not enough free pairs.
   */
  async allocate(pairs = 2): Promise<RtpPortLease> {
    if (!Number.isInteger(pairs) || pairs < 1) throw new TypeError('pairs must be a positive integer');
    const ports: number[] = [];
    const total = Math.floor((this.#max - this.#min + 1) / 2);
    for (let tried = 0; tried < total && ports.length < pairs; tried += 1) {
      const port = this.#cursor;
      this.#cursor = port + 2 > this.#max - 1 ? this.#min : port + 2;
      if (this.#held.has(port)) continue;
      this.#held.add(port); // hold while checking, so concurrent allocations skip it
      if ((await isUdpPortFree(port)) && (await isUdpPortFree(port + 1))) {
        ports.push(port);
      } else {
        this.#held.delete(port);
      }
    }
    if (ports.length < pairs) {
      for (const port of ports) this.#held.delete(port);
      throw new MediaError(
        `No ${pairs} free UDP port pairs for egress RTP in ${this.#min}..${this.#max}: ` +
          'end some lives or widen the egress port range.',
      );
    }
    let released = false;
    return {
      ports,
      release: () => {
        if (released) return;
        released = true;
        for (const port of ports) this.#held.delete(port);
      },
    };
  }
}
