/**
 * One way to check a Bearer credential, whichever kind it is: a personal access token (by its
 * `enosaml_pat_` prefix) or a session token. Signing in and out stay with the session tokens.
 */
import { looksLikeAccessToken } from './access-token-secret.js';
import type { AccessTokens } from './access-tokens.js';
import type { SessionTokens } from './session-tokens.js';

export function createAuthenticator(sessions: SessionTokens, accessTokens: AccessTokens): SessionTokens {
  return {
    issue: (user) => sessions.issue(user),
    verify: (credential, context) => (looksLikeAccessToken(credential) ? accessTokens.verify(credential, context) : sessions.verify(credential, context)),
    revoke: (session) => sessions.revoke(session),
  };
}
