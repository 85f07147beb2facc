import { errorMessage } from '@idm/config';
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import type { OperationsClient } from '@idm/operations';
import { OPERATIONS } from '../console.tokens.js';

/** Probes (no token): live while the process answers, ready while NATS and the stream are there. */
@Controller('health')
export class HealthController {
  constructor(@Inject(OPERATIONS) private readonly ops: OperationsClient) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<{ status: 'ok' }> {
    if (this.ops.nc.isClosed()) throw new ServiceUnavailableException('NATS connection closed');
    try {
      await this.ops.streamFacts();
    } catch (err) {
      throw new ServiceUnavailableException(errorMessage(err));
    }
    return { status: 'ok' };
  }
}
