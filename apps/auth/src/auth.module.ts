// The auth service: owns keys and policies. Needs a global PersistenceModule (DataSource, with AUTH_MIGRATIONS
// among its migrations) and a global MESSAGE_BUS.
import { type DynamicModule, Module } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { serverSecretFromHex } from '@spendops/policy';
import { DataSource } from 'typeorm';
import { KeyCommandsHandler } from './key-commands.handler';
import { KeyRepository } from './key.repository';
import { KeyService } from './key.service';
import { KeyChangeRelay } from './key-change.relay';

export interface AuthModuleOptions {
  /** The server secret keys are hashed under (hex, at least 32 bytes); the proxy must use the same. */
  serverSecret: string | Buffer;
}

@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    const secret = Buffer.isBuffer(options.serverSecret)
      ? options.serverSecret
      : serverSecretFromHex(options.serverSecret);
    return {
      module: AuthModule,
      providers: [
        {
          provide: KeyRepository,
          inject: [DataSource],
          useFactory: (db: DataSource) => new KeyRepository(db),
        },
        {
          provide: KeyService,
          inject: [KeyRepository, MESSAGE_BUS],
          useFactory: (repo: KeyRepository, bus: MessageBus) =>
            new KeyService(repo, bus, { serverSecret: secret }),
        },
        KeyCommandsHandler,
        KeyChangeRelay,
      ],
      exports: [KeyService],
    };
  }
}
