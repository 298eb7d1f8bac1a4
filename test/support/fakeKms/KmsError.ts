/**
 * Errors exactly as Kurento Media Server 7.3 reports them in JSON-RPC `error` objects.
 *
 * Sources:
 * - Codes and their `data.type` names: `KurentoException.hpp` of kms-core (the `getType()` switch);
 *   the recorded frames in `/work/shared/kms-protocol/real-kms-scenario.jsonl` show the wire shape
 *   `{"code":40001,"data":{"type":"MARSHALL_ERROR"},"message":"'source' parameter should be a string"}`.
 * - JSON-RPC level errors (`-32000` SERVER_ERROR_INIT without `data`, `-32601` "Method not found.",
 *   `-32700` "Parse error.") come from KMS's `JsonRpcHandler.cpp` / `JsonRpcUtils.cpp`.
 */

/** Numeric codes of `KurentoException.hpp` (KMS 7.x) and the JSON-RPC codes KMS uses. */
export const KMS_ERROR_CODES = {
  MARSHALL_ERROR: 40001,
  UNEXPECTED_ERROR: 40003,
  CONNECT_ERROR: 40004,
  UNSUPPORTED_MEDIA_TYPE: 40005,
  NOT_IMPLEMENTED: 40006,
  INVALID_SESSION: 40007,
  MALFORMED_TRANSACTION: 40008,
  NOT_ENOUGH_RESOURCES: 40009,
  MEDIA_OBJECT_TYPE_NOT_FOUND: 40100,
  MEDIA_OBJECT_NOT_FOUND: 40101,
  MEDIA_OBJECT_CONSTRUCTOR_NOT_FOUND: 40104,
  MEDIA_OBJECT_METHOD_NOT_FOUND: 40105,
  MEDIA_OBJECT_EVENT_NOT_SUPPORTED: 40106,
  MEDIA_OBJECT_ILLEGAL_PARAM_ERROR: 40107,
  MEDIA_OBJECT_NOT_AVAILABLE: 40108,
  MEDIA_OBJECT_NOT_FOUND_TRANSACTION_NO_COMMIT: 40109,
  MEDIA_OBJECT_TAG_KEY_NOT_FOUND: 40110,
  MEDIA_OBJECT_OPERATION_NOT_SUPPORTED: 40111,
  SDP_CREATE_ERROR: 40200,
  SDP_PARSE_ERROR: 40201,
  SDP_END_POINT_NO_LOCAL_SDP_ERROR: 40202,
  SDP_END_POINT_NO_REMOTE_SDP_ERROR: 40203,
  SDP_END_POINT_GENERATE_OFFER_ERROR: 40204,
  SDP_END_POINT_PROCESS_OFFER_ERROR: 40205,
  SDP_END_POINT_PROCESS_ANSWER_ERROR: 40206,
  SDP_CONFIGURATION_ERROR: 40207,
  SDP_END_POINT_ALREADY_NEGOTIATED: 40208,
  SDP_END_POINT_NOT_OFFER_GENERATED: 40209,
  SDP_END_POINT_ANSWER_ALREADY_PROCCESED: 40210,
  ICE_GATHER_CANDIDATES_ERROR: 40400,
  ICE_ADD_CANDIDATE_ERROR: 40401,
  SERVER_MANAGER_ERROR_KMD_NOT_FOUND: 40500,
} as const;

/**
 * The fake's own error, answered to a call that would have CRASHED a real KMS (the process gone,
 * every pipeline with it), e.g. `AlphaBlending.setMaster` with the id of another hub's port. Outside
 * KMS's ranges (40000–40500, -32xxx) on purpose; `data.type` is {@link WOULD_CRASH_TYPE}.
 * FakeKms records such calls in `crashingCalls`.
 */
export const WOULD_CRASH_CODE = 49999;
/** `error.data.type` of {@link WOULD_CRASH_CODE}. */
export const WOULD_CRASH_TYPE = 'FAKE_KMS_REAL_KMS_WOULD_CRASH';

/** Name of a Kurento error type, as put in `error.data.type`. */
export type KmsErrorType = keyof typeof KMS_ERROR_CODES;

/** JSON-RPC 2.0 error codes used by KMS's JSON-RPC handler. */
export const JSONRPC_ERROR_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  SERVER_ERROR_INIT: -32000,
} as const;

/** The `error` member of a JSON-RPC response. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An error that the fake KMS answers with, in the exact wire shape of the real server. */
export class KmsError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'KmsError';
    this.code = code;
    this.data = data;
  }

  /** A `KurentoException` as serialized by `ServerMethods.cpp`: `data: { type: <name> }`. */
  static kurento(type: KmsErrorType, message: string): KmsError {
    return new KmsError(KMS_ERROR_CODES[type], message, { type });
  }

  /** A JSON-RPC level error from `JsonRpcUtils.cpp` (code -32000, no data), e.g. a missing `object`. */
  static rpc(message: string, code: number = JSONRPC_ERROR_CODES.SERVER_ERROR_INIT): KmsError {
    return new KmsError(code, message);
  }

  /** 40101 exactly as recorded: `Object '<id>' not found`. */
  static objectNotFound(id: string): KmsError {
    return KmsError.kurento('MEDIA_OBJECT_NOT_FOUND', `Object '${id}' not found`);
  }

  /** 40001 MARSHALL_ERROR, e.g. `'source' parameter should be a string` (recorded). */
  static marshall(message: string): KmsError {
    return KmsError.kurento('MARSHALL_ERROR', message);
  }

  /** {@link WOULD_CRASH_CODE}: what a real KMS would have done instead of answering is `what` + a crash. */
  static wouldCrash(what: string): KmsError {
    return new KmsError(
      WOULD_CRASH_CODE,
      `A real KMS 7.3 would have crashed here (SIGSEGV: the process and every pipeline gone): ${what}`,
      { type: WOULD_CRASH_TYPE },
    );
  }

  /** Whether this is a {@link wouldCrash} error. */
  get wouldCrash(): boolean {
    return this.code === WOULD_CRASH_CODE;
  }

  /** The JSON-RPC `error` object. */
  toJson(): JsonRpcErrorObject {
    const out: JsonRpcErrorObject = { code: this.code, message: this.message };
    if (this.data !== undefined) out.data = this.data;
    return out;
  }
}
