import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import { metricsRegistry } from './metrics';
import { ReadinessRegistry } from './readiness';

interface ReplyLike {
  status(code: number): ReplyLike;
  send(body: unknown): void;
}

/** `/healthz` (the process serves), `/readyz` (its store and bus are usable), `/metrics` (Prometheus text). */
@Controller()
export class OpsController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: ReplyLike): Promise<void> {
    const { ready, checks } = await this.readiness.evaluate();
    reply
      .status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .send({ status: ready ? 'ready' : 'not ready', checks });
  }

  @Get('metrics')
  @Header('Content-Type', metricsRegistry.contentType)
  async metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
