/**
 * The fake KMS carries real media (`FakeKms.start({ media: true })`): Chromium publishers → fake
 * WebRtcEndpoint (werift) → connect → viewer WebRtcEndpoint → a Chromium (or Firefox) viewer that
 * decodes frames; ffmpeg RTP into an RtpEndpoint; a publisher out of an RtpEndpoint to UDP.
 * KMS is driven with the real kurento-client 7.3.0, as the app does. Every assertion is on media
 * that really arrived: framesDecoded and the <video>'s currentTime rising, its videoWidth, packets
 * counted per SSRC.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { type Browser, chromium, type Page } from 'playwright-core';
import puppeteer, { type Browser as PBrowser, type Page as PPage } from 'puppeteer-core';

import { FakeKms } from '../support/FakeKms.js';

const CHROMIUM = '/usr/bin/chromium';
const FIREFOX = '/usr/bin/firefox-esr';
const FFMPEG = '/usr/bin/ffmpeg';
const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// --- a thin typed view of kurento-client (CommonJS, no type declarations) ---------------------------

type EventData = Record<string, unknown>;
interface Remote {
  id: string;
  on(event: string, listener: (data: EventData) => void): unknown;
}
interface Client extends Remote {
  _re: { on(event: string, l: () => void): unknown; disconnect(): void };
  then(onFulfilled: (copy: unknown) => void, onRejected: (error: Error) => void): unknown;
  close(): void;
}
type KurentoFactory = (url: string, options?: Record<string, unknown>) => Client;
const kurentoModule = 'kurento-client';
const kurento = ((await import(kurentoModule)) as { default: KurentoFactory }).default;

/** Calls a kurento-client method with a node-style callback (its promise API swallows errors). */
function call<T = unknown>(obj: object, method: string, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fn = (obj as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new TypeError(`no method ${method}`);
    (fn as (...a: unknown[]) => unknown).call(
      obj,
      ...args,
      (error: Error | null | undefined, result: unknown) => (error ? reject(error) : resolve(result as T)),
    );
  });
}

/** Resolves with the first event of `type` matching `pred`, or rejects after `ms`. */
function nextEvent(
  obj: Remote,
  type: string,
  pred: (d: EventData) => boolean,
  ms = 15000,
): Promise<EventData> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    obj.on(type, (d) => {
      if (!pred(d)) return;
      clearTimeout(timer);
      resolve(d);
    });
  });
}

// --- browser pages ---------------------------------------------------------------------------------

/**
 * Installed in every page as `window.media`: one RTCPeerConnection, publishing the fake camera or
 * viewing into a <video>. Plain JavaScript, so that the same code runs in Chromium and Firefox and
 * this file needs no DOM typings.
 */
const PAGE_SCRIPT = `
window.media = (() => {
  let pc, video, offeredAt, firstFrame;
  const gathered = () => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
  });
  const candidates = [];
  async function offer() {
    pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.toJSON()); };
    const o = await pc.createOffer();
    offeredAt = performance.now();
    await pc.setLocalDescription(o);
    await gathered();
    return { sdp: o.sdp, candidates };
  }
  return {
    async publish(width, height) {
      pc = new RTCPeerConnection({ iceServers: [] });
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: true, video: { width: { exact: width }, height: { exact: height }, frameRate: 30 } });
      for (const track of stream.getTracks()) {
        // Keep the camera's size on a loaded test host (Chromium would scale down before dropping frames).
        if (track.kind === 'video') track.contentHint = 'detail';
        pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      }
      return offer();
    },
    async view() {
      pc = new RTCPeerConnection({ iceServers: [] });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      video = document.createElement('video');
      video.muted = true; video.autoplay = true; video.playsInline = true;
      document.body.appendChild(video);
      firstFrame = new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error('no video frame within 20 s')), 20000);
        const done = () => resolve(performance.now() - offeredAt);
        // Whichever comes first: headless Firefox may not run video frame callbacks.
        if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(done);
        video.addEventListener('loadeddata', done, { once: true });
      });
      pc.ontrack = (e) => {
        if (e.track.kind !== 'video') return;
        video.srcObject = new MediaStream([e.track]);
        video.play().catch(() => {});
      };
      return offer();
    },
    answer(sdp) { return pc.setRemoteDescription({ type: 'answer', sdp }); },
    addCandidate(c) { return pc.addIceCandidate(c); },
    firstFrame() { return firstFrame; },
    async decoded() {
      let frames = 0;
      (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0; });
      return { framesDecoded: frames, currentTime: video.currentTime, width: video.videoWidth, height: video.videoHeight };
    },
    close() { if (pc) pc.close(); },
  };
})();
`;

/** What a page's `media.decoded()` reports. */
interface Decoded {
  framesDecoded: number;
  currentTime: number;
  width: number;
  height: number;
}
interface LocalOffer {
  sdp: string;
  candidates: Array<{ candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }>;
}

/** A page of Chromium (playwright-core) or Firefox (puppeteer-core over WebDriver BiDi). */
interface MediaPage {
  run<T>(expression: string): Promise<T>;
}
const asMediaPage = (page: Page | PPage): MediaPage => ({
  // Both evaluate a string expression in the page and await the promise it yields.
  run: <T>(expression: string) => (page as Page).evaluate<T>(expression),
});

/**
 * Negotiates a page with a fake WebRtcEndpoint the way the app does: subscribe to
 * IceCandidateFound, processOffer, gatherCandidates, then feed the browser's candidates.
 */
async function negotiate(
  page: MediaPage,
  ep: Remote,
  role: 'publish' | 'view',
  size = [640, 480],
): Promise<void> {
  ep.on('IceCandidateFound', (d) => {
    const c = d.candidate as { candidate: string; sdpMid: string; sdpMLineIndex: number };
    const init = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
    page.run(`media.addCandidate(${JSON.stringify(init)})`).catch(() => undefined);
  });
  const offer = await page.run<LocalOffer>(
    role === 'publish' ? `media.publish(${size.join(',')})` : 'media.view()',
  );
  const answer = await call<string>(ep, 'processOffer', offer.sdp);
  await page.run(`media.answer(${JSON.stringify(answer)})`);
  await call(ep, 'gatherCandidates');
  for (const c of offer.candidates) await call(ep, 'addIceCandidate', c);
}

/** Samples the viewer twice, `ms` apart (a measurement window, not a wait for an event). */
async function sample(
  page: MediaPage,
  ms: number,
): Promise<{ before: Decoded; after: Decoded; fps: number }> {
  const before = await page.run<Decoded>('media.decoded()');
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const after = await page.run<Decoded>('media.decoded()');
  return { before, after, fps: ((after.framesDecoded - before.framesDecoded) * 1000) / (Date.now() - t0) };
}

/** Waits (polling the page's stats, as there is no event for it) until the viewer decodes at `width`. */
async function waitForWidth(page: MediaPage, width: number, ms = 15000): Promise<Decoded> {
  const until = Date.now() + ms;
  for (;;) {
    const d = await page.run<Decoded>('media.decoded()');
    if (d.width === width && d.framesDecoded > 0) return d;
    if (Date.now() > until) throw new Error(`viewer never decoded width ${width}: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- fixtures --------------------------------------------------------------------------------------

let kms: FakeKms;
let client: Client;
let browser: Browser | undefined;
const children: ChildProcess[] = [];
/** An empty page on http://127.0.0.1 (a secure context: getUserMedia needs one; about:blank is not). */
let pageServer: http.Server;
let pageUrl: string;

before(async () => {
  pageServer = http.createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>media</title><body></body>');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`;
  kms = await FakeKms.start({ media: true });
  client = kurento(kms.url, { request_timeout: 10000, duplicates_timeout: 50 });
  client._re.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => void client.then(() => resolve(), reject));
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await browser?.close();
  client.close();
  client._re.disconnect();
  await kms.stop();
  pageServer.closeAllConnections();
  await new Promise((resolve) => pageServer.close(resolve));
});

async function newPage(): Promise<MediaPage> {
  if (!browser) throw new Error('no browser');
  const page = await browser.newPage();
  await page.addInitScript(PAGE_SCRIPT);
  await page.goto(pageUrl);
  return asMediaPage(page);
}

const measured: Record<string, unknown> = {};

// --- tests -----------------------------------------------------------------------------------------

describe('FakeKms with media: WebRTC', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  test(
    'a Chromium publisher is forwarded to a Chromium viewer: frames decode at 640×480',
    { timeout: 60000 },
    async () => {
      const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
      const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const view = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const pubPage = await newPage();
      const viewPage = await newPage();

      const pubConnected = nextEvent(pub, 'ConnectionStateChanged', (d) => d.newState === 'CONNECTED');
      const pubFlowing = nextEvent(
        pub,
        'MediaFlowOutStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      await negotiate(pubPage, pub, 'publish');
      await pubConnected;
      await pubFlowing;

      const viewFlowing = nextEvent(
        view,
        'MediaFlowInStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      await call(pub, 'connect', view);
      await viewFlowing;
      await negotiate(viewPage, view, 'view');
      const firstFrameMs = await viewPage.run<number>('media.firstFrame()');
      await waitForWidth(viewPage, 640);
      const { before, after, fps } = await sample(viewPage, 2000);
      assert.ok(
        after.framesDecoded > before.framesDecoded + 10,
        `frames: ${before.framesDecoded} → ${after.framesDecoded}`,
      );
      assert.ok(
        after.currentTime > before.currentTime + 1,
        `currentTime: ${before.currentTime} → ${after.currentTime}`,
      );
      assert.equal(after.width, 640);
      assert.equal(after.height, 480);

      const pubStats = kms.rtpStats(pub.id);
      const viewStats = kms.rtpStats(view.id);
      assert.ok(pubStats?.received.some((s) => s.kind === 'video' && s.packets > 50));
      assert.ok(viewStats?.sent.some((s) => s.kind === 'video' && s.packets > 50));
      assert.ok(
        viewStats?.sent.some((s) => s.kind === 'audio' && s.packets > 50),
        'opus is forwarded too',
      );
      measured.chromium = {
        firstFrameMs: Math.round(firstFrameMs),
        fps: Math.round(fps * 10) / 10,
        width: after.width,
      };
      console.log('chromium → fake KMS → chromium', measured.chromium);

      // Switching: a second publisher (320×240) connected to the same viewer replaces the first.
      const guest = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const guestPage = await newPage();
      const guestFlowing = nextEvent(
        guest,
        'MediaFlowOutStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      await negotiate(guestPage, guest, 'publish', [320, 240]);
      await guestFlowing;
      const switchedAt = Date.now();
      await call(guest, 'connect', view);
      await waitForWidth(viewPage, 320);
      const switchMs = Date.now() - switchedAt;
      const switched = await sample(viewPage, 2000);
      assert.ok(
        switched.after.framesDecoded > switched.before.framesDecoded + 10,
        'frames keep decoding after the switch',
      );
      assert.ok(switched.after.currentTime > switched.before.currentTime + 1);
      assert.equal(switched.after.width, 320);
      measured.switch = { switchMs, fps: Math.round(switched.fps * 10) / 10 };
      console.log('switch to a second publisher', measured.switch);

      // Release closes the werift peers: no stats for released endpoints.
      await call(pipeline, 'release');
      assert.equal(kms.rtpStats(view.id), undefined);
    },
  );

  test(
    'a late viewer gets a picture at once (keyframe requested from the source on connect)',
    { timeout: 60000 },
    async () => {
      const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
      const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const pubPage = await newPage();
      const pubFlowing = nextEvent(
        pub,
        'MediaFlowOutStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      await negotiate(pubPage, pub, 'publish');
      await pubFlowing;
      // The publisher has long sent its first keyframe when this viewer is negotiated.
      const view = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const viewPage = await newPage();
      await negotiate(viewPage, view, 'view');
      await call(pub, 'connect', view);
      const firstFrameMs = await viewPage.run<number>('media.firstFrame()');
      await waitForWidth(viewPage, 640);
      assert.ok(firstFrameMs < 3000, `first frame after ${Math.round(firstFrameMs)} ms`);
      measured.lateViewer = { firstFrameMs: Math.round(firstFrameMs) };
      console.log('late viewer', measured.lateViewer);
      await call(pipeline, 'release');
    },
  );

  test(
    'a Firefox viewer decodes a Chromium publisher through the fake',
    { timeout: 120000, skip: !existsSync(FIREFOX) && `no ${FIREFOX}` },
    async () => {
      const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
      const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const view = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const pubPage = await newPage();
      const pubFlowing = nextEvent(
        pub,
        'MediaFlowOutStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      await negotiate(pubPage, pub, 'publish');
      await pubFlowing;
      await call(pub, 'connect', view);

      let firefox: PBrowser | undefined;
      try {
        firefox = await puppeteer.launch({
          browser: 'firefox',
          executablePath: FIREFOX,
          headless: true,
          extraPrefsFirefox: {
            'media.navigator.streams.fake': true,
            'media.navigator.permission.disabled': true,
            'media.autoplay.default': 0,
            'media.autoplay.blocking_policy': 0,
            // Firefox sends no connectivity check to a loopback candidate (the fake's 127.0.0.1) unless
            // allowed; and a viewer that did not call getUserMedia offers only mDNS (.local) names.
            'media.peerconnection.ice.loopback': true,
            'media.peerconnection.ice.obfuscate_host_addresses': false,
          },
        });
        const page = await firefox.newPage();
        await page.goto(pageUrl);
        await page.evaluate(PAGE_SCRIPT);
        const viewPage = asMediaPage(page);
        await negotiate(viewPage, view, 'view');
        const firstFrameMs = await viewPage.run<number>('media.firstFrame()');
        await waitForWidth(viewPage, 640, 30000);
        // Firefox beside Chromium on a loaded 2-core host decoded 8–14 fps: ask for motion, not a rate.
        const { before, after, fps } = await sample(viewPage, 3000);
        assert.ok(
          after.framesDecoded > before.framesDecoded + 5,
          `frames: ${before.framesDecoded} → ${after.framesDecoded}`,
        );
        assert.ok(after.currentTime > before.currentTime + 1);
        assert.equal(after.width, 640);
        measured.firefox = {
          firstFrameMs: Math.round(firstFrameMs),
          fps: Math.round(fps * 10) / 10,
          width: after.width,
        };
        console.log('chromium → fake KMS → firefox', measured.firefox);
      } finally {
        await firefox?.close();
        await call(pipeline, 'release');
      }
    },
  );
});

describe('FakeKms with media: RtpEndpoint', { skip: !existsSync(FFMPEG) && `no ${FFMPEG}` }, () => {
  test(
    'ffmpeg H.264 RTP into an RtpEndpoint is counted per SSRC and flows out',
    { timeout: 60000 },
    async () => {
      const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
      const rtp = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
      const offer = [
        'v=0',
        'o=- 0 0 IN IP4 127.0.0.1',
        's=ffmpeg',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'm=video 9 RTP/AVP 96',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1',
        'a=sendonly',
        '',
      ].join('\r\n');
      const answer = await call<string>(rtp, 'processOffer', offer);
      const port = Number(/^m=video (\d+) /m.exec(answer)?.[1]);
      assert.ok(port > 0, answer);
      const flowing = nextEvent(
        rtp,
        'MediaFlowOutStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      const ssrc = 0x1234abcd;
      const ffmpeg = spawn(
        FFMPEG,
        [
          ...[
            '-hide_banner',
            '-loglevel',
            'error',
            '-re',
            '-f',
            'lavfi',
            '-i',
            'testsrc2=size=640x480:rate=25',
          ],
          ...[
            '-t',
            '20',
            '-c:v',
            'libx264',
            '-profile:v',
            'baseline',
            '-tune',
            'zerolatency',
            '-pix_fmt',
            'yuv420p',
          ],
          ...['-g', '25', '-an', '-f', 'rtp', '-payload_type', '96', '-ssrc', String(ssrc)],
          `rtp://127.0.0.1:${port}?rtcpport=${port + 1}&pkt_size=1200`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      children.push(ffmpeg);
      const exited = new Promise<void>((resolve) => ffmpeg.once('exit', () => resolve()));
      try {
        await flowing;
        const stats = kms.rtpStats(rtp.id);
        const stream = stats?.received.find((s) => s.ssrc === ssrc);
        assert.ok(stream, JSON.stringify(stats));
        assert.equal(stream.kind, 'video');
        assert.equal(stream.payloadType, 96);
        assert.ok(stream.packets > 0);
      } finally {
        ffmpeg.kill('SIGTERM');
        await exited;
        await call(pipeline, 'release');
      }
    },
  );

  test(
    'an RtpEndpoint offering to UDP sockets (generateOffer/processAnswer) sends the publisher’s RTP there',
    { timeout: 60000, skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` },
    async () => {
      const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
      const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
      const out = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
      const pubPage = await newPage();
      const pubFlowing = nextEvent(
        pub,
        'MediaFlowOutStateChanged',
        (d) => d.mediaType === 'VIDEO' && d.state === 'FLOWING',
      );
      await negotiate(pubPage, pub, 'publish');
      await pubFlowing;

      const sockets = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<dgram.Socket>((resolve) => {
              const s = dgram.createSocket('udp4');
              s.bind(0, '127.0.0.1', () => resolve(s));
            }),
        ),
      );
      const [audioSock, videoSock] = sockets as [dgram.Socket, dgram.Socket];
      const got = { audio: new Map<number, number>(), video: new Map<number, number>() };
      const enough = new Promise<void>((resolve) => {
        const on = (kind: 'audio' | 'video') => (buf: Buffer) => {
          const ssrc = buf.readUInt32BE(8);
          got[kind].set(ssrc, (got[kind].get(ssrc) ?? 0) + 1);
          if ([...got.video.values()].some((n) => n >= 100) && [...got.audio.values()].some((n) => n >= 50))
            resolve();
        };
        audioSock.on('message', on('audio'));
        videoSock.on('message', on('video'));
      });
      try {
        const offer = await call<string>(out, 'generateOffer');
        assert.match(offer, /^m=video \d+ RTP\/AVPF 105 106 107 108 109/m);
        const answer = [
          'v=0',
          'o=- 0 0 IN IP4 127.0.0.1',
          's=sink',
          'c=IN IP4 127.0.0.1',
          't=0 0',
          `m=audio ${audioSock.address().port} RTP/AVPF 96`,
          'a=rtpmap:96 opus/48000/2',
          'a=recvonly',
          `m=video ${videoSock.address().port} RTP/AVPF 108`,
          'a=rtpmap:108 VP8/90000',
          'a=recvonly',
          '',
        ].join('\r\n');
        await call(out, 'processAnswer', answer);
        await call(pub, 'connect', out);
        await enough;
        const sent = kms.rtpStats(out.id)?.sent ?? [];
        const video = sent.find((s) => s.kind === 'video');
        assert.equal(video?.payloadType, 108, 'the answer’s payload type');
        assert.ok(got.video.has(video.ssrc), 'the RtpEndpoint’s own SSRC');
      } finally {
        for (const s of sockets) s.close();
        await call(pipeline, 'release');
      }
    },
  );
});
