/** Guards /admin/* and /api/*: `Authorization: Bearer <master key>` or 401 in OpenAI shape. */
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import { bearerToken, type HeaderBag } from './credentials';
import { secretsEqual } from './master-key';

/** Nest token of the master key string. */
export const MASTER_KEY = 'MASTER_KEY';

export function masterKeyPresented(headers: HeaderBag, masterKey: string): boolean {
  const token = bearerToken(headers);
  return token !== null && secretsEqual(masterKey, token);
}

@Injectable()
export class MasterKeyGuard implements CanActivate {
  constructor(@Inject(MASTER_KEY) private readonly masterKey: string) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: HeaderBag }>();
    if (masterKeyPresented(req.headers, this.masterKey)) return true;
    throw new GatewayError(
      401,
      'A valid master key is required: "Authorization: Bearer <master key>".',
      'invalid_request_error',
      'invalid_api_key',
    );
  }
}
