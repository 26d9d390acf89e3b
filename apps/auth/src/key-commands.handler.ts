// Serves the key commands on the bus: validate the request, call one service method, shape the reply.
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  Commands,
  type KeyCreatedReply,
  type KeyReply,
  type KeyRotatedReply,
  type KeysAuditReply,
  type KeysListReply,
  type KeysResolveReply,
  type KeysSnapshotReply,
} from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import {
  AuditListDto,
  CreateKeyDto,
  KeyIdDto,
  ListKeysDto,
  RotateKeyDto,
  UpdatePolicyDto,
} from './dto/key-commands.dto';
import { validated } from './dto/validate';
import { KeyService } from './key.service';

@Injectable()
export class KeyCommandsHandler implements OnModuleInit {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly keys: KeyService,
  ) {}

  async onModuleInit(): Promise<void> {
    const k = this.keys;
    await this.bus.handle(Commands.keysCreate, async (req): Promise<KeyCreatedReply> => {
      const dto = validated(CreateKeyDto, req);
      return k.create({ name: dto.name, tenant: dto.tenant, policy: dto.policy, actor: dto.actor });
    });
    await this.bus.handle(Commands.keysList, async (req): Promise<KeysListReply> => ({
      keys: await k.list(validated(ListKeysDto, req).tenant),
    }));
    await this.bus.handle(Commands.keysGet, async (req): Promise<KeyReply> => ({
      key: await k.get(validated(KeyIdDto, req).id),
    }));
    await this.bus.handle(Commands.keysRevoke, async (req): Promise<KeyReply> => {
      const dto = validated(KeyIdDto, req);
      return { key: await k.revoke(dto.id, dto.actor) };
    });
    await this.bus.handle(Commands.keysActivate, async (req): Promise<KeyReply> => {
      const dto = validated(KeyIdDto, req);
      return { key: await k.activate(dto.id, dto.actor) };
    });
    await this.bus.handle(Commands.keysRotate, async (req): Promise<KeyRotatedReply> => {
      const dto = validated(RotateKeyDto, req);
      return k.rotate(dto.id, dto.grace_seconds ?? 0, dto.actor);
    });
    await this.bus.handle(Commands.keysUpdatePolicy, async (req): Promise<KeyReply> => {
      const dto = validated(UpdatePolicyDto, req);
      return { key: await k.updatePolicy(dto.id, { ...dto.policy }, dto.actor) };
    });
    await this.bus.handle(Commands.keysAuditList, async (req): Promise<KeysAuditReply> => ({
      audit: await k.auditLog(validated(AuditListDto, req).key_id || undefined),
    }));
    await this.bus.handle(Commands.keysSnapshot, async (): Promise<KeysSnapshotReply> => ({
      keys: await k.snapshot(),
    }));
    await this.bus.handle(Commands.keysResolve, async (req): Promise<KeysResolveReply> => ({
      key: await k.resolve(validated(KeyIdDto, req).id),
    }));
  }
}
