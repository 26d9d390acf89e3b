import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { AdminTokenService } from './admin-token.service';

/** `Authorization: Bearer <admin token>` on every admin API route. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(private readonly tokens: AdminTokenService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !this.tokens.verify(match[1])) {
      throw new UnauthorizedException('Missing or invalid admin token');
    }
    return true;
  }
}
