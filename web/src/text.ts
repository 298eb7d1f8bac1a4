/** Words the pages share: how states and reasons read to people. */
import type { ChatMessage, EndReason, Layout } from './protocol.js';

/** Why a live ended, as a sentence. */
export function endReasonText(reason: EndReason): string {
  switch (reason) {
    case 'stopped':
      return 'The live was stopped.';
    case 'hostLeft':
      return 'The live ended because the host left.';
    case 'mediaServerLost':
      return 'The live ended: the media server went away.';
    case 'mediaError':
      return 'The live ended: the media server failed.';
    case 'shutdown':
      return 'The live ended: the server is restarting.';
  }
}

/** "1 viewer", "3 viewers". */
export function viewersText(n: number): string {
  return n === 1 ? '1 viewer' : `${n} viewers`;
}

/** A chat message's time, e.g. "14:05". */
export function timeText(message: ChatMessage): string {
  return new Date(message.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** `connectionState` of an RTCPeerConnection, for the "media: …" line. */
export function mediaText(state: RTCPeerConnectionState | undefined): string {
  // `new` lasts until the first ICE check: to a person that is still connecting
  return `media: ${state === undefined ? 'not connected' : state === 'new' ? 'connecting' : state}`;
}

/** A stage layout as the host's picker names it. */
export function layoutText(layout: Layout): string {
  return layout === 'pip' ? 'Picture-in-picture' : 'Side by side';
}
