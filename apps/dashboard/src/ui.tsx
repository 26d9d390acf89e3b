// Small shared pieces: data loading with its states, messages, tables.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';

export type Load<T> =
  { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; data: T };

/** Runs `fetcher` whenever `deps` change; `reload` runs it again. A stale answer never overwrites a newer one. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[]): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setLoad({ state: 'loading' });
    fetcher().then(
      (data) => current && setLoad({ state: 'ready', data }),
      (err: unknown) => current && setLoad({ state: 'error', message: messageOf(err) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [load, reload];
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function Loading({ what = 'data' }: { what?: string }) {
  return (
    <p class="status" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorMessage({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p>{message}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Renders the ready data, or the loading/error state. */
export function Loaded<T>(props: {
  load: Load<T>;
  retry?: () => void;
  what?: string;
  children: (data: T) => ComponentChildren;
}) {
  if (props.load.state === 'loading') return <Loading what={props.what} />;
  if (props.load.state === 'error') return <ErrorMessage message={props.load.message} retry={props.retry} />;
  return <>{props.children(props.load.data)}</>;
}

export function Card(props: { label: string; value: string; hint?: string; testid?: string }) {
  return (
    <section class="card" aria-label={props.label}>
      <h2>{props.label}</h2>
      <p class="big" data-testid={props.testid}>
        {props.value}
      </p>
      {props.hint && <p class="hint">{props.hint}</p>}
    </section>
  );
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** A labelled text (or date…) input that hands its value, not the event, to `onValue`. */
export function TextField(props: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'date';
  name?: string;
  placeholder?: string;
  required?: boolean;
  inputMode?: 'decimal' | 'numeric';
}) {
  const { label, onValue, type, ...input } = props;
  const onInput = (e: Event) => onValue((e.target as HTMLInputElement).value);
  return (
    <label>
      {label}
      {/* Two literals: preact types an input's attributes by its literal `type`. */}
      {type === 'date' ? (
        <input type="date" {...input} onInput={onInput} />
      ) : (
        <input type="text" {...input} onInput={onInput} />
      )}
    </label>
  );
}
