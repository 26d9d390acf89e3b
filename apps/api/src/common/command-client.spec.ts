// Bus failures as HTTP errors, on the real in-process bus.
import { Commands, KeyErrors } from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { CommandClient } from './command-client';

function failing(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

describe('CommandClient', () => {
  let bus: InProcessBus;
  let client: CommandClient;
  beforeEach(() => {
    bus = new InProcessBus();
    client = new CommandClient(bus);
  });
  afterEach(() => bus.close());

  const statusOf = async (p: Promise<unknown>) => {
    const err = (await p.catch((e: unknown) => e)) as { getStatus(): number; getResponse(): unknown };
    return [err.getStatus(), err.getResponse()];
  };

  it('returns the reply', async () => {
    await bus.handle(Commands.keysList, async () => ({ keys: [] }));
    await expect(client.call('auth', Commands.keysList, {})).resolves.toEqual({ keys: [] });
  });

  it('maps a missing key to 404 and a refused request to 400 with the service message', async () => {
    await bus.handle(Commands.keysGet, async () => {
      throw failing(KeyErrors.notFound, 'key not found: X');
    });
    await bus.handle(Commands.keysCreate, async () => {
      throw failing(KeyErrors.invalid, 'name: must be shorter');
    });
    expect(await statusOf(client.call('auth', Commands.keysGet, { id: 'X' }))).toEqual([
      404,
      { message: 'key not found' },
    ]);
    expect(await statusOf(client.call('auth', Commands.keysCreate, {}))).toEqual([
      400,
      { message: 'name: must be shorter' },
    ]);
  });

  it('maps pricing refusals: "no ..." is 404, anything else 400', async () => {
    await bus.handle(Commands.pricingModelGet, async () => {
      throw failing('PricingCommandError', 'no price for model m');
    });
    await bus.handle(Commands.pricingOverridesAdd, async () => {
      throw failing('PricingCommandError', 'model is required');
    });
    expect((await statusOf(client.call('pricing', Commands.pricingModelGet, {})))[0]).toBe(404);
    expect((await statusOf(client.call('pricing', Commands.pricingOverridesAdd, {})))[0]).toBe(400);
  });

  it('answers 502 "<service> unavailable" when nobody serves the command or it fails unexpectedly', async () => {
    expect(await statusOf(client.call('pricing', Commands.pricingUnpricedList, {}))).toEqual([
      502,
      { message: 'pricing unavailable' },
    ]);
    await bus.handle(Commands.keysList, async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    expect(await statusOf(client.call('auth', Commands.keysList, {}))).toEqual([
      502,
      { message: 'auth unavailable' },
    ]);
    await bus.close();
    expect((await statusOf(client.call('auth', Commands.keysList, {})))[0]).toBe(502);
  });
});
