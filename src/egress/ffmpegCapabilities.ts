/**
 * Start-up check of the ffmpeg binary (`FFMPEG_PATH`, default `ffmpeg` on PATH): that it runs,
 * and has every muxer, demuxer, codec, protocol and option the egress command lines use
 * (`ffmpegArgs.ts`). Debian 12's `ffmpeg` 5.1 has all of them. A lack is reported once, at
 * start-up, as an `FfmpegCapabilityError` listing everything missing and saying how to fix it,
 * instead of as an ffmpeg failing at every live.
 *
 * Asks `ffmpeg -hide_banner` for `-version`, `-muxers`, `-demuxers`, `-encoders`, `-decoders`,
 * `-protocols`, `-h muxer=dash`, `-h muxer=flv`, `-h demuxer=sdp`.
 */
import { execFile } from 'node:child_process';
import { FfmpegCapabilityError } from '../process/errors.js';
import { defaultOrphanGuard, type OrphanGuard } from '../process/FfmpegProcess.js';

/** What the check found. */
export interface FfmpegCapabilities {
  /** `ffmpeg -version` first line's version, e.g. `5.1.6-0+deb12u1`. */
  version: string;
  /** `rtmps://` destinations can be pushed (the `rtmps` protocol is built in). */
  rtmps: boolean;
  /** How children are tied to the app's life here (see FfmpegProcess). */
  orphanGuard: OrphanGuard;
}

/** Muxer/demuxer options the egress passes; a missing one would fail every start. */
const DASH_OPTIONS = [
  'seg_duration',
  'streaming',
  'ldash',
  'use_template',
  'use_timeline',
  'window_size',
  'extra_window_size',
  'update_period',
  'utc_timing_url',
  'remove_at_exit',
  'hls_playlist',
  'adaptation_sets',
];
const FLV_OPTIONS = ['flvflags', 'no_duration_filesize'];
const SDP_OPTIONS = ['sdp_flags', 'rtcp_to_source', 'buffer_size'];

function run(ffmpegPath: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ffmpegPath,
      ['-hide_banner', ...args],
      { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) reject(new Error(err.message, { cause: err }));
        else resolve(`${stdout}\n${stderr}`);
      },
    );
  });
}

/** Names listed in a `-muxers`/`-encoders`/… table: the word after the flag column. */
function listed(output: string, flags: RegExp): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /^\s*(\S+)\s+(\S+)/.exec(line);
    if (match?.[1] && match[2] && flags.test(match[1])) {
      for (const name of match[2].split(',')) names.add(name);
    }
  }
  return names;
}

function hasOption(help: string, option: string): boolean {
  return new RegExp(`^\\s*-?${option}\\s`, 'm').test(help);
}

/**
 * Checks the binary. Resolves with what it found; rejects with `FfmpegCapabilityError` if ffmpeg
 * is missing, does not run, or lacks anything the egress needs (`missing` lists each item, e.g.
 * `muxer dash`, `decoder opus`, `dash option ldash`).
 */
export async function checkFfmpegCapabilities(
  ffmpegPath = 'ffmpeg',
  options: { timeoutMs?: number } = {},
): Promise<FfmpegCapabilities> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let versionOutput: string;
  try {
    versionOutput = await run(ffmpegPath, ['-version'], timeoutMs);
  } catch (err) {
    throw new FfmpegCapabilityError(
      `ffmpeg was not found or does not run (FFMPEG_PATH=${ffmpegPath}): ` +
        `${err instanceof Error ? err.message : String(err)}. ` +
        'Install it (Debian: apt-get install ffmpeg) or set FFMPEG_PATH to the binary.',
      ['binary'],
      { cause: err },
    );
  }
  const version = /ffmpeg version (\S+)/.exec(versionOutput)?.[1] ?? 'unknown';

  const [muxers, demuxers, encoders, decoders, protocols, dashHelp, flvHelp, sdpHelp] = await Promise.all([
    run(ffmpegPath, ['-muxers'], timeoutMs),
    run(ffmpegPath, ['-demuxers'], timeoutMs),
    run(ffmpegPath, ['-encoders'], timeoutMs),
    run(ffmpegPath, ['-decoders'], timeoutMs),
    run(ffmpegPath, ['-protocols'], timeoutMs),
    run(ffmpegPath, ['-h', 'muxer=dash'], timeoutMs),
    run(ffmpegPath, ['-h', 'muxer=flv'], timeoutMs),
    run(ffmpegPath, ['-h', 'demuxer=sdp'], timeoutMs),
  ]);

  const missing: string[] = [];
  const muxerNames = listed(muxers, /E/);
  for (const name of ['dash', 'flv']) if (!muxerNames.has(name)) missing.push(`muxer ${name}`);
  const demuxerNames = listed(demuxers, /D/);
  for (const name of ['sdp', 'rtp']) if (!demuxerNames.has(name)) missing.push(`demuxer ${name}`);
  if (!listed(encoders, /^A/).has('aac')) missing.push('encoder aac');
  const audioDecoders = listed(decoders, /^A/);
  if (!audioDecoders.has('opus') && !audioDecoders.has('libopus')) missing.push('decoder opus (or libopus)');
  const protocolNames = new Set(protocols.split('\n').map((line) => line.trim()));
  for (const name of ['file', 'udp', 'rtp', 'rtmp'])
    if (!protocolNames.has(name)) missing.push(`protocol ${name}`);
  for (const option of DASH_OPTIONS) if (!hasOption(dashHelp, option)) missing.push(`dash option ${option}`);
  for (const option of FLV_OPTIONS) if (!hasOption(flvHelp, option)) missing.push(`flv option ${option}`);
  for (const option of SDP_OPTIONS) if (!hasOption(sdpHelp, option)) missing.push(`sdp option ${option}`);

  if (missing.length > 0) {
    throw new FfmpegCapabilityError(
      `ffmpeg ${version} at ${ffmpegPath} lacks what DASH/RTMP egress needs: ${missing.join(', ')}. ` +
        'Use a full build (Debian 12: apt-get install ffmpeg, version 5.1) or point FFMPEG_PATH at one.',
      missing,
    );
  }
  return { version, rtmps: protocolNames.has('rtmps'), orphanGuard: defaultOrphanGuard() };
}
