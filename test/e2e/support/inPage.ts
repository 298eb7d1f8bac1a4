/**
 * Code that runs inside the pages of the e2e browsers, installed once per document as
 * `globalThis.__theiaE2e` (see {@link IN_PAGE_SCRIPT}), so that Chromium (playwright-core) and
 * Firefox (puppeteer-core over WebDriver BiDi) find elements and watch videos the same way:
 *
 * - elements are found by `data-testid` through every open shadow root (the app is Lit components
 *   inside Lit components), optionally narrowed by their text or a descendant's test id;
 * - a video probe counts what a person would notice: the first frame, frames presented
 *   (`requestVideoFrameCallback`) and decoded (`getVideoPlaybackQuality()`), `currentTime`, and
 *   every `emptied` (the element's load restarting, which blanks the picture);
 * - the page's RTCPeerConnections are remembered (a subclass, before the app's scripts run), so the
 *   tests can read their video RTP statistics: what arrived and was decoded, with which codec;
 * - the page's WebSockets are remembered the same way, so a test can drop them as a network blip
 *   would, without anything in the app for it.
 *
 * The test project compiles without the DOM library, so the few DOM shapes used here are declared
 * below; and the functions are serialised with `toString()`, so each is self-contained.
 */

/** What a scenario names an element by: a `data-testid`, or one narrowed further. */
export type Target = string | TargetSpec;

/** An element with `data-testid` = `testId`, narrowed by its text or by a descendant. */
export interface TargetSpec {
  testId: string;
  /** Its text (whitespace collapsed) contains this, or equals it when `exact`. */
  text?: string;
  exact?: boolean;
  /** It contains an element with this `data-testid`. */
  has?: string;
}

/** How a video looked at one moment. Times in ms on the page's clock (`performance.now()`). */
export interface VideoSample {
  at: number;
  /** Seconds. */
  currentTime: number;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  paused: boolean;
  /** `getVideoPlaybackQuality().totalVideoFrames`, or null where the browser lacks it. */
  totalVideoFrames: number | null;
  /** Frames handed to the compositor (`requestVideoFrameCallback` metadata), or null before the first. */
  presentedFrames: number | null;
}

/** What the probe on one video has seen since it was installed. */
export interface VideoProbeReport {
  /** When the probe was installed (ms, page clock). */
  installedAt: number;
  /** When the first frame was there (`loadeddata` or the first presented frame); null until then. */
  firstFrameAt: number | null;
  /** `emptied` events since installation, and those after the first frame. */
  emptied: number;
  emptiedAfterFirstFrame: number;
  /** The element the probe watches is still the one in the page under that test id. */
  sameElement: boolean;
  /** Samples every {@link SAMPLE_EVERY_MS}, oldest first (bounded). */
  samples: VideoSample[];
  /** `now` on the page clock when this report was made. */
  now: number;
}

/** Video RTP statistics of one peer connection of the page (W3C webrtc-stats `inbound-rtp` / `outbound-rtp`). */
export interface RtcVideoStats {
  connectionState: string;
  /** Summed over the connection's video streams; null where it has none in that direction. */
  inbound: { packetsReceived: number; framesDecoded: number; keyFramesDecoded: number; codec: string } | null;
  outbound: {
    packetsSent: number;
    framesEncoded: number;
    frameWidth: number;
    codec: string;
    /** Why the encoder sends less than it could (`bandwidth`, `cpu`, `none`; Chromium only). */
    limitation: string;
  } | null;
}

/** The helpers installed in each page. */
export interface InPageHelpers {
  /** Matching elements, in the order of a breadth-first walk through the shadow roots. */
  findAll(spec: TargetSpec): unknown[];
  /** The first matching element that is rendered (has a box) and not disabled, or null. */
  findActionable(spec: TargetSpec): unknown;
  count(spec: TargetSpec, visibleOnly: boolean): number;
  /** The first match's text with whitespace collapsed, or null when there is none. */
  text(spec: TargetSpec): string | null;
  /** `value` and `disabled` of the first match (an input), or null when there is none. */
  field(spec: TargetSpec): { value: string; disabled: boolean } | null;
  /** Starts watching the first `<video>` matching `spec`; false when there is none yet. */
  probeVideo(spec: TargetSpec): boolean;
  /** What the probe installed by {@link probeVideo} has seen; null if there is none. */
  videoReport(spec: TargetSpec): VideoProbeReport | null;
  /** Video statistics of the page's peer connections that are not closed, oldest first. */
  rtcStats(): Promise<RtcVideoStats[]>;
  /**
   * Closes the page's open WebSockets from the page's side with `code` (4000–4999; the app sees a
   * close it did not ask for, the server a socket gone without leaving), and returns how many. For
   * `offlineMs` after, new sockets fail to open (they go to a path the server refuses), as they
   * would while the network is down.
   */
  dropSockets(code: number, offlineMs: number): number;
}

/** How often the probe samples a video. */
export const SAMPLE_EVERY_MS = 200;

/** The DOM this file touches, declared structurally (no DOM lib in the test project). */
interface DomNode {
  querySelectorAll(selectors: string): ArrayLike<DomElement>;
}
interface DomElement extends DomNode {
  readonly isConnected: boolean;
  readonly shadowRoot: DomNode | null;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selectors: string): DomElement | null;
  getClientRects(): ArrayLike<unknown>;
  /** Inputs and buttons. */
  readonly disabled?: boolean;
  readonly value?: string;
}
interface DomVideo extends DomElement {
  readonly currentTime: number;
  readonly readyState: number;
  readonly videoWidth: number;
  readonly videoHeight: number;
  readonly paused: boolean;
  addEventListener(type: string, listener: () => void): void;
  getVideoPlaybackQuality?(): { totalVideoFrames: number };
  requestVideoFrameCallback?(callback: (now: number, metadata: { presentedFrames: number }) => void): number;
}
interface RtcStat {
  type: string;
  kind?: string;
  codecId?: string;
  mimeType?: string;
  packetsReceived?: number;
  framesDecoded?: number;
  keyFramesDecoded?: number;
  packetsSent?: number;
  framesEncoded?: number;
  frameWidth?: number;
  qualityLimitationReason?: string;
}
interface RtcPeer {
  readonly connectionState: string;
  getStats(): Promise<{
    forEach(callback: (stat: RtcStat) => void): void;
    get(id: string): RtcStat | undefined;
  }>;
}
type RtcPeerClass = new (...args: unknown[]) => RtcPeer;
interface PageSocket {
  readonly readyState: number;
  close(code?: number, reason?: string): void;
}
type PageSocketClass = new (...args: unknown[]) => PageSocket;
interface PageGlobals {
  document: DomNode;
  performance: { now(): number };
  setInterval(handler: () => void, ms: number): number;
  RTCPeerConnection?: RtcPeerClass;
  WebSocket?: PageSocketClass;
  __theiaE2e?: InPageHelpers;
}

/**
 * Defines `globalThis.__theiaE2e`. Runs in the page: everything it uses is inside it.
 * @param sampleEveryMs see {@link SAMPLE_EVERY_MS}
 */
function installInPageHelpers(sampleEveryMs: number): void {
  const page = globalThis as unknown as PageGlobals;
  if (page.__theiaE2e) return;
  const maxSamples = 600;
  const collapse = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

  const findAll = (spec: TargetSpec): DomElement[] => {
    const found: DomElement[] = [];
    const roots: DomNode[] = [page.document];
    for (let i = 0; i < roots.length; i++) {
      for (const el of Array.from(roots[i]!.querySelectorAll('*'))) {
        if (el.shadowRoot) roots.push(el.shadowRoot);
        if (el.getAttribute('data-testid') !== spec.testId) continue;
        if (spec.text !== undefined) {
          const text = collapse(el.textContent);
          if (spec.exact ? text !== collapse(spec.text) : !text.includes(collapse(spec.text))) continue;
        }
        if (spec.has !== undefined && !el.querySelector(`[data-testid="${spec.has}"]`)) continue;
        found.push(el);
      }
    }
    return found;
  };
  const visible = (el: DomElement): boolean => el.getClientRects().length > 0;

  interface Probe {
    video: DomVideo;
    report: Omit<VideoProbeReport, 'sameElement' | 'now'>;
  }
  const probes = new Map<string, Probe>();
  const keyOf = (spec: TargetSpec): string => JSON.stringify(spec);

  const peers: RtcPeer[] = [];
  const NativePeer = page.RTCPeerConnection;
  if (NativePeer) {
    page.RTCPeerConnection = class extends NativePeer {
      constructor(...args: unknown[]) {
        super(...args);
        peers.push(this);
      }
    };
  }

  const sockets: PageSocket[] = [];
  let offlineUntil = 0;
  const NativeSocket = page.WebSocket;
  if (NativeSocket) {
    page.WebSocket = class extends NativeSocket {
      constructor(...args: unknown[]) {
        const [url, ...rest] = args;
        super(page.performance.now() < offlineUntil ? `${String(url)}-e2e-offline` : url, ...rest);
        sockets.push(this);
      }
    };
  }

  page.__theiaE2e = {
    dropSockets: (code, offlineMs) => {
      offlineUntil = page.performance.now() + offlineMs;
      let dropped = 0;
      for (const socket of sockets.splice(0)) {
        if (socket.readyState > 1) continue; // closing or closed
        socket.close(code, 'e2e: dropped');
        dropped++;
      }
      return dropped;
    },
    findAll,
    findActionable: (spec) => findAll(spec).find((el) => visible(el) && el.disabled !== true) ?? null,
    count: (spec, visibleOnly) => findAll(spec).filter((el) => !visibleOnly || visible(el)).length,
    text: (spec) => {
      const el = findAll(spec)[0];
      return el ? collapse(el.textContent) : null;
    },
    field: (spec) => {
      const el = findAll(spec)[0];
      return el ? { value: el.value ?? '', disabled: el.disabled === true } : null;
    },
    probeVideo: (spec) => {
      const key = keyOf(spec);
      const video = findAll(spec)[0] as DomVideo | undefined;
      if (!video) return false;
      if (probes.get(key)?.video === video) return true;
      const report: Probe['report'] = {
        installedAt: page.performance.now(),
        firstFrameAt: null,
        emptied: 0,
        emptiedAfterFirstFrame: 0,
        samples: [],
      };
      probes.set(key, { video, report });
      let presentedFrames: number | null = null;
      const firstFrame = (): void => {
        report.firstFrameAt ??= page.performance.now();
      };
      if (video.readyState >= 2) firstFrame();
      video.addEventListener('loadeddata', firstFrame);
      video.addEventListener('emptied', () => {
        report.emptied++;
        if (report.firstFrameAt !== null) report.emptiedAfterFirstFrame++;
      });
      const onFrame = (_now: number, metadata: { presentedFrames: number }): void => {
        presentedFrames = metadata.presentedFrames;
        firstFrame();
        video.requestVideoFrameCallback?.(onFrame);
      };
      video.requestVideoFrameCallback?.(onFrame);
      const sample = (): void => {
        if (report.samples.length >= maxSamples) report.samples.shift();
        report.samples.push({
          at: page.performance.now(),
          currentTime: video.currentTime,
          readyState: video.readyState,
          videoWidth: video.videoWidth,
          videoHeight: video.videoHeight,
          paused: video.paused,
          totalVideoFrames: video.getVideoPlaybackQuality?.().totalVideoFrames ?? null,
          presentedFrames,
        });
      };
      sample();
      page.setInterval(sample, sampleEveryMs);
      return true;
    },
    videoReport: (spec) => {
      const probe = probes.get(keyOf(spec));
      if (!probe) return null;
      return {
        ...probe.report,
        samples: [...probe.report.samples],
        sameElement: probe.video.isConnected && findAll(spec)[0] === probe.video,
        now: page.performance.now(),
      };
    },
    rtcStats: () =>
      Promise.all(
        peers
          .filter((pc) => pc.connectionState !== 'closed')
          .map(async (pc): Promise<RtcVideoStats> => {
            const report = await pc.getStats();
            const stats: RtcVideoStats = {
              connectionState: pc.connectionState,
              inbound: null,
              outbound: null,
            };
            report.forEach((stat) => {
              if (stat.kind !== 'video') return;
              const codec = (stat.codecId && report.get(stat.codecId)?.mimeType) || '?';
              if (stat.type === 'inbound-rtp') {
                const sum = (stats.inbound ??= {
                  packetsReceived: 0,
                  framesDecoded: 0,
                  keyFramesDecoded: 0,
                  codec,
                });
                sum.packetsReceived += stat.packetsReceived ?? 0;
                sum.framesDecoded += stat.framesDecoded ?? 0;
                sum.keyFramesDecoded += stat.keyFramesDecoded ?? 0;
              } else if (stat.type === 'outbound-rtp') {
                const sum = (stats.outbound ??= {
                  packetsSent: 0,
                  framesEncoded: 0,
                  frameWidth: 0,
                  codec,
                  limitation: '?',
                });
                sum.packetsSent += stat.packetsSent ?? 0;
                sum.framesEncoded += stat.framesEncoded ?? 0;
                sum.frameWidth = Math.max(sum.frameWidth, stat.frameWidth ?? 0);
                sum.limitation = stat.qualityLimitationReason ?? sum.limitation;
              }
            });
            return stats;
          }),
      ),
  };
}

/**
 * The script that installs the helpers, for an init script (runs before the page's own scripts in
 * every new document). tsx (esbuild with `keepNames`) wraps named inner functions in `__name(…)`,
 * which does not exist in the page: the script brings its own.
 */
export const IN_PAGE_SCRIPT = `(() => {
  const __name = (fn) => fn;
  (${installInPageHelpers.toString()})(${SAMPLE_EVERY_MS});
})();`;

/**
 * A JavaScript expression calling one helper in the page; the arguments go through JSON.
 * @example inPage('count', { testId: 'chat-message' }, false)
 */
export function inPage<K extends keyof InPageHelpers>(
  name: K,
  ...args: Parameters<InPageHelpers[K]>
): string {
  return `globalThis.__theiaE2e.${name}(${args.map((arg) => JSON.stringify(arg)).join(', ')})`;
}

/** The spec of a target given by test id alone or in full. */
export function specOf(target: Target): TargetSpec {
  return typeof target === 'string' ? { testId: target } : target;
}
