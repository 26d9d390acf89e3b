// A filter form whose values live in the page's query string, so a filtered view is a link too.
import { useState } from 'preact/hooks';
import { navigate } from '../router';

export interface Field {
  name: string;
  label: string;
  type?: 'text' | 'date';
  placeholder?: string;
}

export function FilterForm(props: {
  path: string;
  fields: Field[];
  values: URLSearchParams;
  extra?: string[];
}) {
  const initial = Object.fromEntries(props.fields.map((f) => [f.name, props.values.get(f.name) ?? '']));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const inputProps = (f: Field) => ({
    name: f.name,
    value: values[f.name],
    onInput: (e: Event) => setValues({ ...values, [f.name]: (e.target as HTMLInputElement).value }),
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const f of props.fields) if (values[f.name]) q.set(f.name, values[f.name].trim());
    for (const name of props.extra ?? []) {
      const v = props.values.get(name);
      if (v) q.set(name, v);
    }
    const s = q.toString();
    navigate(s ? `${props.path}?${s}` : props.path);
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Filters">
      {props.fields.map((f) => (
        <label key={f.name}>
          {f.label}
          {f.type === 'date' ? (
            <input type="date" {...inputProps(f)} />
          ) : (
            <input type="text" placeholder={f.placeholder} {...inputProps(f)} />
          )}
        </label>
      ))}
      <button type="submit">Apply</button>
      <button
        type="button"
        class="secondary"
        onClick={() => {
          setValues(Object.fromEntries(props.fields.map((f) => [f.name, ''])));
          navigate(props.path);
        }}
      >
        Clear
      </button>
    </form>
  );
}

/** `dim.team=backend` parameters from a `team=backend,app=x` text field. */
export function dimParams(text: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[`dim.${part.slice(0, i).trim()}`] = part.slice(i + 1).trim();
  }
  return out;
}
