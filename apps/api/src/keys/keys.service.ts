// Key management through the auth service's commands; the actor of each change goes to the key audit log.
import { Injectable } from '@nestjs/common';
import {
  Commands,
  type KeyAuditEntry,
  type KeyCreatedReply,
  type KeyReply,
  type KeyRotatedReply,
  type KeysAuditReply,
  type KeysListReply,
  type KeyView,
} from '@spendops/contracts';
import { CommandClient } from '../common/command-client';
import type { CreateKeyBody, PatchKeyBody } from './key.dto';

export type CreatedKey = KeyView & { key: string };

export interface RotatedKey {
  id: string;
  key: string;
  previous_secret_valid_seconds: number;
  previous_valid_until: string | null;
}

@Injectable()
export class KeysService {
  constructor(private readonly commands: CommandClient) {}

  async list(tenant?: string): Promise<KeyView[]> {
    const reply = await this.commands.call<KeysListReply>('auth', Commands.keysList, {
      tenant: tenant || undefined,
    });
    return reply.keys;
  }

  /** The full key is in this answer only. */
  async create(body: CreateKeyBody, actor: string): Promise<CreatedKey> {
    const reply = await this.commands.call<KeyCreatedReply>('auth', Commands.keysCreate, {
      name: body.name,
      tenant: body.tenant || undefined,
      policy: body.policy ? { ...body.policy } : undefined,
      actor,
    });
    return { ...reply.view, key: reply.key };
  }

  async get(id: string): Promise<KeyView> {
    return (await this.commands.call<KeyReply>('auth', Commands.keysGet, { id })).key;
  }

  async patch(id: string, body: PatchKeyBody, actor: string): Promise<KeyView> {
    if (body.policy)
      await this.commands.call<KeyReply>('auth', Commands.keysUpdatePolicy, {
        id,
        policy: { ...body.policy },
        actor,
      });
    if (body.active === true) await this.activate(id, actor);
    if (body.active === false) await this.revoke(id, actor);
    return this.get(id);
  }

  async revoke(id: string, actor: string): Promise<KeyView> {
    return (await this.commands.call<KeyReply>('auth', Commands.keysRevoke, { id, actor })).key;
  }

  async activate(id: string, actor: string): Promise<KeyView> {
    return (await this.commands.call<KeyReply>('auth', Commands.keysActivate, { id, actor })).key;
  }

  async rotate(id: string, graceSeconds: number, actor: string): Promise<RotatedKey> {
    const reply = await this.commands.call<KeyRotatedReply>('auth', Commands.keysRotate, {
      id,
      grace_seconds: graceSeconds,
      actor,
    });
    return {
      id: reply.view.id,
      key: reply.key,
      previous_secret_valid_seconds: graceSeconds,
      previous_valid_until: reply.previous_valid_until,
    };
  }

  async audit(keyId?: string): Promise<KeyAuditEntry[]> {
    const reply = await this.commands.call<KeysAuditReply>('auth', Commands.keysAuditList, {
      key_id: keyId || undefined,
    });
    return reply.audit;
  }
}
