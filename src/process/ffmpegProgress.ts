/**
 * Parsing of ffmpeg's `-progress` output: blocks of `key=value` lines, each block ended by a
 * `progress=continue` (or `progress=end`) line, one block every `-stats_period` seconds once
 * transcoding runs. Keys written by ffmpeg 5.1 (`fftools/ffmpeg.c`, `print_report`): `frame`, `fps`,
 * `stream_<file>_<stream>_q`, `bitrate` (`1234.5kbits/s` or `N/A`), `total_size` (bytes or `N/A`),
 * `out_time_us`, `out_time_ms` (also µs, an ffmpeg quirk), `out_time`, `dup_frames`, `drop_frames`,
 * `speed` (`1.01x` or `N/A`), `progress`.
 */

/** One progress report of an ffmpeg child. */
export interface FfmpegProgress {
  /** Video frames written so far (0 when the output has no video). */
  frame: number;
  /** Average output frame rate of the last period, frames per second. */
  fps: number;
  /** Output bitrate in kbit/s; `undefined` when ffmpeg cannot tell (`N/A`: DASH, null muxer). */
  bitrateKbps: number | undefined;
  /** Bytes written so far; `undefined` when ffmpeg cannot tell (`N/A`). */
  totalSizeBytes: number | undefined;
  /** Timestamp reached in the output, in ms (from `out_time_us`). */
  outTimeMs: number;
  /** Frames duplicated / dropped to keep the output rate. */
  dupFrames: number;
  dropFrames: number;
  /** Processing speed relative to real time (1 = real time); `undefined` when `N/A`. */
  speed: number | undefined;
  /** True for the last block ffmpeg writes (`progress=end`). */
  end: boolean;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number.parseFloat(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Turns the key/value pairs of one block into an `FfmpegProgress`. */
export function progressFromBlock(fields: ReadonlyMap<string, string>): FfmpegProgress {
  const outTimeUs = num(fields.get('out_time_us')) ?? num(fields.get('out_time_ms')) ?? 0;
  return {
    frame: num(fields.get('frame')) ?? 0,
    fps: num(fields.get('fps')) ?? 0,
    bitrateKbps: num(fields.get('bitrate')),
    totalSizeBytes: num(fields.get('total_size')),
    // ffmpeg prints a negative out_time before the first packet of some outputs
    outTimeMs: Math.max(0, outTimeUs / 1000),
    dupFrames: num(fields.get('dup_frames')) ?? 0,
    dropFrames: num(fields.get('drop_frames')) ?? 0,
    speed: num(fields.get('speed')),
    end: fields.get('progress') === 'end',
  };
}

/**
 * A line-fed parser: call `push(line)` with each stdout line of an ffmpeg run with
 * `-progress pipe:1`; `onProgress` is called once per complete block. Lines that are not
 * `key=value` are ignored.
 */
export class ProgressParser {
  #fields = new Map<string, string>();

  constructor(private readonly onProgress: (progress: FfmpegProgress) => void) {}

  push(line: string): void {
    const eq = line.indexOf('=');
    if (eq <= 0) return;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    this.#fields.set(key, value);
    if (key === 'progress') {
      const fields = this.#fields;
      this.#fields = new Map();
      this.onProgress(progressFromBlock(fields));
    }
  }
}
