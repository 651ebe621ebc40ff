/**
 * `POST /api/traces` accepts the master key, or a gateway client key (`sk-gw-…`) checked by the
 * auth module's access control (the hook: ACCESS_CONTROL, optional). The key id of a client key
 * is attached to the request and recorded as the trace's `key_id`.
 */
import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ACCESS_CONTROL, type AccessControl } from '../auth/access.interface';
import { bearerToken, presentedTokens, type HeaderBag } from '../auth/credentials';
import { MASTER_KEY, masterKeyPresented } from '../auth/master-key.guard';
import { GatewayError } from '../common/errors';

export interface IngestRequest {
  headers: HeaderBag;
  ingestKeyId?: string | null;
}

const CLIENT_KEY_PREFIX = 'sk-gw-';

@Injectable()
export class IngestGuard implements CanActivate {
  constructor(
    @Inject(MASTER_KEY) private readonly masterKey: string,
    @Optional() @Inject(ACCESS_CONTROL) private readonly access: AccessControl | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<IngestRequest>();
    if (masterKeyPresented(req.headers, this.masterKey)) {
      req.ingestKeyId = null;
      return true;
    }
    const presented = presentedTokens(req.headers).some((t) => t.startsWith(CLIENT_KEY_PREFIX));
    if (this.access && presented) {
      const grant = await this.access.admit({ headers: req.headers, model: null, endpoint: '/api/traces' });
      if (grant.keyId !== null) {
        req.ingestKeyId = grant.keyId;
        return true;
      }
    }
    throw new GatewayError(
      401,
      bearerToken(req.headers) === null
        ? 'A master key or a client key is required: "Authorization: Bearer <key>".'
        : 'The key presented is not valid for trace ingest.',
      'invalid_request_error',
      'invalid_api_key',
    );
  }
}
