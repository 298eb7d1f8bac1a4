/**
 * zod schemas of every request's params (validation at the edge: rooms/ trusts what passes).
 * The shapes match protocol.ts's RequestParams.
 */
import { z } from 'zod';
import { Limits, type Method } from './protocol.js';

/** SDP (RFC 8866) starts with a version line; KMS itself judges the rest. 32 KiB is far above any offer we make. */
const sdp = z
  .string()
  .max(32 * 1024, 'must be an SDP of at most 32 KiB')
  .regex(/^v=0\r?\n/, 'must be an SDP (starting with "v=0")');

const empty = z.union([z.object({}).strict(), z.undefined()]).transform(() => ({}));

export const paramsSchemas = {
  authenticate: z.object({ token: z.string().min(1).max(200) }),
  joinRoom: z.object({ roomId: z.string().min(1).max(100) }),
  leaveRoom: empty,
  startLive: empty,
  stopLive: empty,
  publishVideo: z.object({ sdpOffer: sdp }),
  receiveVideo: z.object({ sdpOffer: sdp }),
  onIceCandidate: z.object({
    endpoint: z.enum(['publish', 'receive']),
    candidate: z.object({
      candidate: z.string().max(1024),
      sdpMid: z.string().max(64).nullish(),
      sdpMLineIndex: z.number().int().min(0).max(64).nullish(),
    }),
  }),
  sendMessage: z.object({
    text: z
      .string()
      .transform((t) => t.trim())
      .pipe(
        z
          .string()
          .min(1, 'must not be empty')
          .max(Limits.maxChatChars, `must be at most ${Limits.maxChatChars} characters`),
      ),
  }),
} satisfies Record<Method, z.ZodType>;

/** The JSON-RPC 2.0 request envelope (https://www.jsonrpc.org/specification#request_object). */
export const requestEnvelope = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string(),
  params: z.unknown().optional(),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
});

/** A readable one-line account of what failed validation. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'params'}: ${i.message}`).join('; ');
}
