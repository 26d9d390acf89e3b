// A stacked bar chart in plain SVG: one bar per time bucket, one colour per group, a legend, and a text
// alternative (the table beside it carries the same numbers).
import { usd, type Stacked } from './format';

const COLOURS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#64748b'];

export function StackedBars({ data, title }: { data: Stacked; title: string }) {
  const width = 760;
  const height = 220;
  const pad = { left: 64, right: 8, top: 8, bottom: 24 };
  const n = Math.max(data.buckets.length, 1);
  const totals = data.buckets.map((_, i) => data.layers.reduce((s, l) => s + l.values[i], 0));
  const max = Math.max(...totals, 0);
  const scale = max > 0 ? (height - pad.top - pad.bottom) / max : 0;
  const bw = (width - pad.left - pad.right) / n;
  const label = (b: string) => (b.endsWith('T00:00:00.000Z') ? b.slice(5, 10) : b.slice(11, 16));
  const every = Math.ceil(n / 12);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${title}: ${usd(max)} at most per bucket`}
      >
        <line
          x1={pad.left}
          x2={width - pad.right}
          y1={height - pad.bottom}
          y2={height - pad.bottom}
          class="axis"
        />
        <text x={pad.left - 6} y={pad.top + 10} class="tick" text-anchor="end">
          {usd(max)}
        </text>
        <text x={pad.left - 6} y={height - pad.bottom} class="tick" text-anchor="end">
          $0
        </text>
        {data.buckets.map((b, i) => {
          let y = height - pad.bottom;
          return (
            <g key={b}>
              {data.layers.map((l, j) => {
                const h = l.values[i] * scale;
                y -= h;
                return h > 0 ? (
                  <rect
                    x={pad.left + i * bw + 1}
                    y={y}
                    width={Math.max(bw - 2, 1)}
                    height={h}
                    fill={COLOURS[j % COLOURS.length]}
                  >
                    <title>{`${label(b)} · ${l.label}: ${usd(l.values[i])}`}</title>
                  </rect>
                ) : null;
              })}
              {i % every === 0 && (
                <text x={pad.left + i * bw + bw / 2} y={height - 6} class="tick" text-anchor="middle">
                  {label(b)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {data.layers.map((l, j) => (
            <li key={l.label}>
              <span class="swatch" style={{ background: COLOURS[j % COLOURS.length] }} />
              {l.label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
