/**
 * The ffmpeg command lines of the egress, as argument lists (after the ones FfmpegProcess adds:
 * `-hide_banner -nostdin -nostats -loglevel … -progress pipe:1 -stats_period …`). Why each flag
 * is there is written in doc/egress.md; the short reasons are next to each flag below.
 * Option names and defaults are those of ffmpeg 5.1 (`ffmpeg -h muxer=dash`, `-h demuxer=sdp`).
 */

/** Input options for the RTP that KMS sends, described by the SDP file at `sdpPath`. */
export function rtpInputArgs(sdpPath: string): string[] {
  return [
    // the SDP demuxer opens rtp:// and udp:// URLs from a local file; nothing else is allowed
    '-protocol_whitelist',
    'file,udp,rtp',
    // Probing ends as soon as both codecs are known (Opus from the SDP, H.264 at its first
    // SPS/PPS), so these caps (µs, bytes) only matter when the first keyframe is late: ffmpeg then
    // waits up to 3 s for it rather than starting without a picture size. Not `-fflags nobuffer`:
    // it drops the packets read while probing, first keyframe included, so the first segment
    // waits for the next keyframe (measured: +0.3–0.5 s with a 1 s GOP).
    '-analyzeduration',
    '3000000',
    '-probesize',
    '5000000',
    // a lost packet is waited for at most 100 ms (µs) before the jitter buffer moves on
    '-max_delay',
    '100000',
    // UDP receive buffer, bytes: a keyframe is a burst of ~100 packets (capped by rmem_max)
    '-buffer_size',
    '1048576',
    // RTCP receiver reports go to where the RTP comes from (KMS), not to the c= address
    '-sdp_flags',
    'rtcp_to_source',
    '-i',
    sdpPath,
    // exactly one video and one audio stream, in this order (DASH adaptation sets refer to them)
    '-map',
    '0:v:0',
    '-map',
    '0:a:0',
  ];
}

/** Audio re-encoding shared by DASH and RTMP: Opus from KMS → AAC-LC stereo 48 kHz. */
export function aacArgs(bitrateKbps: number): string[] {
  return ['-c:a', 'aac', '-b:a', `${bitrateKbps}k`, '-ar', '48000', '-ac', '2'];
}

/** Options of the DASH (+ HLS) output. */
export interface DashArgsOptions {
  sdpPath: string;
  /** Path of the manifest; segments and HLS playlists go next to it. */
  manifestPath: string;
  /** URL answering the current time (ISO 8601), for players to sync their clocks (`UTCTiming`). */
  utcTimingUrl: string;
  /** Target segment duration, s. Segments are cut at keyframes: with copied video the source's
   *  keyframe interval decides (KMS keyframes), so a 2 s GOP gives 2 s segments. Default 1. */
  segmentDurationS?: number;
  /** Segments listed in the manifest. Default 5. */
  windowSize?: number;
  /** Segments kept on disk after leaving the manifest (for slow players). Default 5. */
  extraWindowSize?: number;
  /** AAC bitrate, kbit/s. Default 128. */
  audioBitrateKbps?: number;
  /** How often players re-read the manifest (`minimumUpdatePeriod`), s. Default 5. */
  manifestUpdatePeriodS?: number;
  /**
   * Tag of this ffmpeg run in segment names (`init-stream0-<run>.m4s`,
   * `chunk-stream0-<run>-00001.m4s`): numbering restarts at 1 with every run, so without it a
   * restarted ffmpeg (or the room's next live) would reuse names a player or proxy has cached.
   * `[a-z0-9]+`. Default: none (ffmpeg's own names).
   */
  runTag?: string;
}

/** The full argument list of the DASH/HLS ffmpeg. */
export function dashArgs(options: DashArgsOptions): string[] {
  return [
    ...rtpInputArgs(options.sdpPath),
    // video as KMS sends it (H.264): no re-encode, no added latency, no CPU
    '-c:v',
    'copy',
    ...aacArgs(options.audioBitrateKbps ?? 128),
    '-f',
    'dash',
    '-seg_duration',
    String(options.segmentDurationS ?? 1),
    // each frame is written as its own CMAF chunk (moof+mdat) as soon as it is muxed, so a
    // low-latency player can fetch a segment while it is being written (chunked transfer)
    '-streaming',
    '1',
    // low-latency DASH: Resync/ProducerReferenceTime elements, availabilityTimeOffset
    '-ldash',
    '1',
    '-use_template',
    '1',
    '-use_timeline',
    '0',
    '-window_size',
    String(options.windowSize ?? 5),
    '-extra_window_size',
    String(options.extraWindowSize ?? 5),
    // -ldash alone sets minimumUpdatePeriod to 500 s; a player would not notice a restarted
    // ffmpeg (new availabilityStartTime) for that long
    '-update_period',
    String(options.manifestUpdatePeriodS ?? 5),
    '-utc_timing_url',
    options.utcTimingUrl,
    // on a clean stop (SIGTERM) ffmpeg deletes its segments and manifests
    '-remove_at_exit',
    '1',
    // the same fMP4 segments also listed as HLS (master.m3u8, media_<n>.m3u8) for Safari/iOS
    '-hls_playlist',
    '1',
    '-adaptation_sets',
    'id=0,streams=v id=1,streams=a',
    ...(options.runTag === undefined
      ? []
      : [
          '-init_seg_name',
          `init-stream$RepresentationID$-${options.runTag}.$ext$`,
          '-media_seg_name',
          `chunk-stream$RepresentationID$-${options.runTag}-$Number%05d$.$ext$`,
        ]),
    options.manifestPath,
  ];
}

/** Options of one RTMP push. */
export interface RtmpArgsOptions {
  sdpPath: string;
  /** `rtmp://host[:port]/app/streamKey` or `rtmps://…`. */
  url: string;
  /** AAC bitrate, kbit/s. Default 128. */
  audioBitrateKbps?: number;
  /** Socket read/write timeout towards the RTMP server, ms. Default 10000. */
  ioTimeoutMs?: number;
}

/** The full argument list of one RTMP push ffmpeg. */
export function rtmpArgs(options: RtmpArgsOptions): string[] {
  return [
    ...rtpInputArgs(options.sdpPath),
    // H.264 copied: the keyframe interval is the source's (KMS), see doc/egress.md
    '-c:v',
    'copy',
    ...aacArgs(options.audioBitrateKbps ?? 128),
    '-f',
    'flv',
    // live: no seeking back to patch duration/filesize into the header at the end
    '-flvflags',
    'no_duration_filesize',
    // a server that stops answering (no RST) fails the write instead of blocking (µs)
    '-rw_timeout',
    String((options.ioTimeoutMs ?? 10_000) * 1000),
    options.url,
  ];
}
