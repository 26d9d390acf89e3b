import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who made a change, for the audit logs: `admin-api`, or `admin-api:<X-ASO-Actor>` (at most 200 characters). */
export function actorOf(header: string | string[] | undefined): string {
  const who = (Array.isArray(header) ? header[0] : header)?.trim();
  return who && who.length <= 200 ? `admin-api:${who}` : 'admin-api';
}

/** Controller parameter: the request's actor (`actorOf` of its X-ASO-Actor header). */
export const Actor = createParamDecorator((_: unknown, ctx: ExecutionContext): string =>
  actorOf(
    ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers[
      'x-aso-actor'
    ],
  ),
);
