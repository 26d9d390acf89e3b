// The seam between the proxy (data plane) and the policy library (auth's rules, evaluated from the proxy's
// in-memory key replica). The proxy calls these in the reference's order: route → authenticate → body cap →
// authorize (provider → dimensions → model).
import type { DenialType, ProviderDialect } from './usage';
import type { KeyRecord } from './keys';

export type AuthenticationResult =
  | { ok: true; key: KeyRecord }
  | { ok: false; status: 401 | 403; type: DenialType; message: string; key_id?: string; tenant_id?: string };

export interface AuthorizationInput {
  provider: string;
  dialect: ProviderDialect;
  /** Path relative to the provider route (`/v1beta/models/gemini-2.5-pro:generateContent`), no query. */
  endpoint: string;
  content_type: string;
  /** The request body when the proxy buffered it (JSON bodies, or any body when `needsBody` said so). */
  body: Buffer | null;
  dims_header: string | undefined;
  // Added by the policy helper (all optional; absent = the usual single-header case):
  /** HTTP method; absent counts as POST (the file-batch rule refuses `POST …/batches`). */
  method?: string;
  /** Raw query string without `?` (a `model` parameter is checked, e.g. realtime `?model=`). */
  query?: string;
  /** Every `Content-Encoding` value joined with `,` ('' or absent = identity). */
  content_encoding?: string;
  /** The request carried `Content-Type` more than once (Node keeps only the first; see `rawHeaders`). */
  content_type_repeated?: boolean;
  /** The request carried `X-ASO-Dims` more than once (Node joins them; pass the first in `dims_header`). */
  dims_header_repeated?: boolean;
  /** `body` holds only the first bytes of a longer body. */
  body_truncated?: boolean;
  /** Decompression cap for a restricted key's compressed body (default 32 MiB). */
  max_decoded_bytes?: number;
}

export type AuthorizationResult =
  | { ok: true; dims: Record<string, string>; model: string }
  | { ok: false; status: number; type: DenialType; message: string; dims: Record<string, string> };

export interface RequestAuthorizer {
  /** Verify the `X-ASO-API-Key` header value (undefined when absent). Memory only on the hot path. */
  authenticate(apiKeyHeader: string | undefined): Promise<AuthenticationResult>;
  /**
   * Whether a non-JSON body must be buffered so the model can be checked (a model allow-list that restricts
   * `provider`; without `provider`, whether it restricts any provider).
   */
  needsBody(key: KeyRecord, provider?: string): boolean;
  authorize(key: KeyRecord, input: AuthorizationInput): AuthorizationResult;
}

/** Nest injection token of the proxy's RequestAuthorizer. */
export const REQUEST_AUTHORIZER = Symbol('REQUEST_AUTHORIZER');
