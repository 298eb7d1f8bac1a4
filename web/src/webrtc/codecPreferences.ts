/**
 * Puts one video codec first in a sender's preferences (`RTCRtpTransceiver.setCodecPreferences`,
 * W3C WebRTC §5.4), so the SDP offer lists it first and the media server picks it. Publishing
 * H.264 lets KMS hand the program to the H.264 egress (DASH, RTMP) without transcoding
 * (doc/media-graph.md, "Where KMS transcodes").
 */

/**
 * Orders `transceiver`'s video codecs with `codec` (`h264`, `vp8`) first; every other codec stays,
 * in the browser's order, as fallbacks. Does nothing for `any`, when the browser cannot send that
 * codec, or without `setCodecPreferences` (older browsers).
 */
export function preferVideoCodec(transceiver: RTCRtpTransceiver, codec: 'h264' | 'vp8' | 'any'): void {
  if (codec === 'any' || typeof transceiver.setCodecPreferences !== 'function') return;
  const mimeType = `video/${codec}`;
  const is = (c: RTCRtpCodec): boolean => c.mimeType.toLowerCase() === mimeType;
  // only a codec the browser can encode (Firefox without OpenH264 cannot send H.264)
  if (!(RTCRtpSender.getCapabilities('video')?.codecs ?? []).some(is)) return;
  // the list must come from the receiver's capabilities (W3C WebRTC setCodecPreferences, step 6)
  const all = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
  try {
    transceiver.setCodecPreferences([...all.filter(is), ...all.filter((c) => !is(c))]);
  } catch (err) {
    // a browser that refuses the list keeps its own order: the media server transcodes if needed
    console.warn('webrtc: could not prefer', codec, err);
  }
}
