export interface ApiOptions {
  /** The configured admin token; '' = use the stored one, generating it on first start. */
  adminToken: string;
  /** Called once with a freshly generated token (the launcher prints it). */
  announceToken: (token: string) => void;
}

export const API_OPTIONS = Symbol('API_OPTIONS');
