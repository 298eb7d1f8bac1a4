/**
 * zod schemas of every request's params (validation at the edge: rooms/ trusts what passes).
 * The shapes match protocol.ts's RequestParams.
 */
import { z } from 'zod';
import { Limits, type Method } from '../protocol/index.js';

/**
 * An SDP offer (RFC 8866). Only its type and size are checked here: KMS judges the content and
 * answers 40201 SDP_PARSE_ERROR for what it cannot parse (shared/kms-protocol recording), which
 * reaches the client as 5002 with `data.kmsCode`. 32 KiB is far above any browser's offer.
 */
const sdp = z
  .string()
  .min(1, 'must be an SDP offer')
  .max(32 * 1024, 'must be an SDP of at most 32 KiB');

const empty = z.union([z.object({}).strict(), z.undefined()]).transform(() => ({}));

/** A user id (a UUID for users Theia created; any short token-like string is accepted). */
const userId = z.string().regex(/^[\w-]{1,64}$/, 'must be a user id');

/** `publish`, `receive` (the program) or `receive:<userId>` (a stage member, directly). */
const endpointKind = z.union([z.enum(['publish', 'receive']), z.templateLiteral(['receive:', userId])]);

export const paramsSchemas = {
  authenticate: z.object({ token: z.string().min(1).max(200) }),
  joinRoom: z.object({ roomId: z.string().min(1).max(100) }),
  leaveRoom: empty,
  startLive: empty,
  stopLive: empty,
  publishVideo: z.object({ sdpOffer: sdp }),
  receiveVideo: z.object({ sdpOffer: sdp, from: userId.optional() }),
  onIceCandidate: z.object({
    endpoint: endpointKind,
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
  stopReceiving: z.object({
    endpoint: z.union([z.literal('receive'), z.templateLiteral(['receive:', userId])]),
  }),
  setCoHosting: z.object({ enabled: z.boolean() }),
  requestCoHost: empty,
  cancelCoHostRequest: empty,
  acceptCoHost: z.object({ userId }),
  rejectCoHost: z.object({ userId }),
  endCoHost: z.union([z.object({ userId: userId.optional() }), z.undefined()]).transform((p) => p ?? {}),
  setLayout: z.object({ layout: z.enum(['grid', 'pip']) }),
  setFaceDetection: z.object({ enabled: z.boolean() }),
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
