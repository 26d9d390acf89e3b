import type { DenialType } from '@spendops/contracts';

/** A rejection: the proxy answers `status` with `{"error":"AISpendOps: <message>"}` and records a denial of `type`. */
export interface PolicyDenial {
  type: DenialType;
  message: string;
  status: number;
}

/** Exact texts of the hosted product for provider and model rejections. */
export const MSG_PROVIDER_NOT_ALLOWED = 'Provider not allowed by API key policy';
export const MSG_MODEL_NOT_ALLOWED = 'Model not allowed by API key policy';
export const MSG_UNCHECKABLE = 'Request cannot be checked against the model policy: ';

export function dimsDenial(message: string): PolicyDenial {
  return { type: 'dimension_validation', message, status: 400 };
}

export function modelDenial(status: number, message: string): PolicyDenial {
  return { type: 'model_blocked', message, status };
}

export function uncheckable(status: number, why: string): PolicyDenial {
  return modelDenial(status, MSG_UNCHECKABLE + why);
}
