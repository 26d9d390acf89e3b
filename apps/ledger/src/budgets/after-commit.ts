// Run a callback once the transaction of an EntityManager commits (dropped on rollback): budget.spend.v1 is
// published only for spend that is committed, and never holds the projection's transaction open on the broker.
// TypeORM broadcasts AfterTransactionCommit to the DataSource's subscribers; one subscriber per DataSource
// dispatches to the callbacks registered for that query runner.
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

class CommitCallbacks implements EntitySubscriberInterface {
  readonly pending = new WeakMap<QueryRunner, (() => void)[]>();

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const callbacks = this.pending.get(event.queryRunner);
    this.pending.delete(event.queryRunner);
    // Not awaited: the committing caller does not wait on what the callbacks start.
    for (const callback of callbacks ?? []) callback();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.pending.delete(event.queryRunner);
  }
}

const installed = new WeakMap<DataSource, CommitCallbacks>();

function callbacksOf(dataSource: DataSource): CommitCallbacks {
  let callbacks = installed.get(dataSource);
  if (!callbacks) {
    callbacks = new CommitCallbacks();
    dataSource.subscribers.push(callbacks);
    installed.set(dataSource, callbacks);
  }
  return callbacks;
}

/** Run `callback` after `manager`'s transaction commits; at once when it is not in a transaction. */
export function afterCommit(manager: EntityManager, callback: () => void): void {
  const runner = manager.queryRunner;
  if (!runner || !runner.isTransactionActive) {
    callback();
    return;
  }
  const { pending } = callbacksOf(manager.connection);
  const list = pending.get(runner);
  if (list) list.push(callback);
  else pending.set(runner, [callback]);
}
