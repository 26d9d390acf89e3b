// Test support: a real InProcessBus whose publishing can be switched off, standing in for a broker outage.
import { MessageBus, PublishOptions } from '../bus';
import { BusUnavailableError } from '../errors';
import { InProcessBus } from '../in-process/in-process-bus';

export class SwitchableBus extends InProcessBus implements MessageBus {
  down = false;
  publishCalls = 0;

  override async publish<T>(topic: string, payload: T, options?: PublishOptions): Promise<void> {
    this.publishCalls++;
    if (this.down) throw new BusUnavailableError('switched off');
    return super.publish(topic, payload, options);
  }
}
