// The policy decision for one request: provider allow-list, then dimensions, then model allow-list; the first
// failure wins. Dimensions are parsed even when the provider is refused, so the denial can carry them.
import type { KeyPolicy } from '@spendops/contracts';
import { type PolicyDenial, MSG_MODEL_NOT_ALLOWED, MSG_PROVIDER_NOT_ALLOWED, modelDenial } from './denial';
import { type Dims, parseDims, parseDimsHeader } from './dims';
import {
  compiledMatchModel,
  compiledModelsRestricted,
  compiledProviderAllowed,
  compilePolicy,
} from './compiled-policy';
import { canonicalProvider } from './providers';
import { type ModelRequest, requestModels } from './request-models';

export interface PolicyRequest extends ModelRequest {
  /** The X-ASO-Dims values: raw as Node delivers them (latin1 bytes) unless `dimsDecoded`. */
  dims?: readonly string[];
  dimsDecoded?: boolean;
}

export interface PolicyDecision {
  /** The dimensions to record (request, pinned and default merged); {} when none or they failed to parse. */
  dims: Dims;
  /** The model the request names ('' when none). */
  model: string;
  denial?: PolicyDenial;
}

export function evaluate(p: KeyPolicy, req: PolicyRequest): PolicyDecision {
  const c = compilePolicy(p);
  const parsed = req.dimsDecoded ? parseDims(req.dims ?? [], p) : parseDimsHeader(req.dims ?? [], p);
  const dims = parsed.ok ? parsed.dims : {};
  const prov = canonicalProvider(req.provider);
  if (!compiledProviderAllowed(c, prov)) {
    return { dims, model: '', denial: modelDenialFor('provider') };
  }
  if (!parsed.ok) return { dims, model: '', denial: parsed.denial };
  const restricted = compiledModelsRestricted(c.models, prov);
  const { found, denial } = requestModels({ ...req, provider: prov }, restricted, !restricted);
  const dec: PolicyDecision = { dims, model: found.primary };
  if (!restricted) return dec;
  if (denial) return { ...dec, denial };
  if (!found.all.every((m) => compiledMatchModel(c.models, prov, m)))
    return { ...dec, denial: modelDenialFor('model') };
  return dec;
}

function modelDenialFor(what: 'provider' | 'model'): PolicyDenial {
  return what === 'provider'
    ? { type: 'provider_blocked', message: MSG_PROVIDER_NOT_ALLOWED, status: 403 }
    : modelDenial(403, MSG_MODEL_NOT_ALLOWED);
}
